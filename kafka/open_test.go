package kafka_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/kafka"
	"github.com/netlog-go/netlog/tlsclient"
)

// TestOpenErrors: a bad kafka:// URL is an error at Open that names the
// URL and what is wrong with it, before anything connects.
func TestOpenErrors(t *testing.T) {
	t.Setenv("NETLOG_TEST_UNSET_PASSWORD", "")
	for _, c := range []struct{ url, want string }{
		{"kafka://127.0.0.1:9092/logs?acks=all&colour=red", `unknown parameter "colour" for kafka`},
		{"kafka://127.0.0.1:9092/", "missing topic"},
		{"kafka://127.0.0.1:9092", "missing topic"},
		{"kafka:///logs", "missing brokers"},
		{"kafka://127.0.0.1/logs", `broker: bad address "127.0.0.1": `},
		{"kafka://127.0.0.1:9092,b2:99999/logs", `broker: bad address "b2:99999": port 99999 is outside 1-65535`},
		{"kafka://bad_host!:9092/logs", `bad host "bad_host!"`},
		{"kafka://127.0.0.1:9092/a/b", `topic "a/b": character '/'`},
		{"kafka://127.0.0.1:9092/" + strings.Repeat("t", 250), "topic of 250 bytes"},
		{"kafka://127.0.0.1:9092/logs?acks=2", `acks "2": want all, leader or none`},
		{"kafka://127.0.0.1:9092/logs?compression=brotli", `compression "brotli"`},
		{"kafka://127.0.0.1:9092/logs?key=host", `key "host": want name, peer or none`},
		{"kafka://127.0.0.1:9092/logs?linger=soon", `parameter linger="soon"`},
		{"kafka://127.0.0.1:9092/logs?batch-bytes=100", "batch bytes 100: want 512 to 1 GiB"},
		{"kafka://127.0.0.1:9092/logs?ca=/etc/ca.pem", `parameter ca="/etc/ca.pem": applies only with tls=true`},
		{"kafka://u:secret@127.0.0.1:9092/logs?sasl=plain", "SASL PLAIN without TLS"},
		{"kafka://u:secret@127.0.0.1:9092/logs?sasl=scram-sha-512", "SASL SCRAM-SHA-512 without TLS"},
		{"kafka://u:secret@127.0.0.1:9092/logs?tls=true&sasl=md5", `SASL mechanism "md5"`},
		{"kafka://u:secret@127.0.0.1:9092/logs", "SASL credentials without a mechanism"},
		{"kafka://127.0.0.1:9092/logs?tls=true&sasl=plain&password-env=NETLOG_NO_SUCH_VAR", "NETLOG_NO_SUCH_VAR is not set"},
	} {
		h, err := netlog.Open(c.url, nil)
		if err == nil {
			h.Close(context.Background())
			t.Errorf("%s: no error", c.url)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "netlog: URL ") {
			t.Errorf("%s: error %q, want one with %q", c.url, err, c.want)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the password: %q", c.url, err)
		}
	}
}

// TestNewErrors: the constructor names the destination once, and refuses
// TLS settings that would go unused.
func TestNewErrors(t *testing.T) {
	_, err := kafka.New([]string{"127.0.0.1:9092"}, "", nil)
	if err == nil || err.Error() != "netlog: kafka 127.0.0.1:9092/: empty topic" {
		t.Errorf("empty topic: %v", err)
	}
	_, err = kafka.New(nil, "logs", nil)
	if err == nil || !strings.Contains(err.Error(), "no broker address") {
		t.Errorf("no broker: %v", err)
	}
	settings, err := tlsclient.New(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = kafka.New([]string{"127.0.0.1:9092"}, "logs", &kafka.Options{Options: netlog.Options{TLS: settings}})
	if err == nil || !strings.Contains(err.Error(), "TLS settings without UseTLS") {
		t.Errorf("TLS without UseTLS: %v", err)
	}
}

// TestOpenTakesParameters: every parameter docs/kafka.md lists is read,
// and the handler opens without connecting.
func TestOpenTakesParameters(t *testing.T) {
	h, err := netlog.Open("kafka://127.0.0.1:9092,localhost:9093/logs?acks=leader&compression=zstd&linger=5ms"+
		"&batch-bytes=64KiB&key=peer&client-id=relay-1&level=warn&name=svc&dial-timeout=2s&write-timeout=3s"+
		"&buffer=1000&buffer-bytes=1MiB&overflow=block&block-timeout=2s", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Errorf("Close of a handler that never connected: %v", err)
	}
}

// TestTooLarge: a record over batch-bytes is refused at Handle, counted,
// and never queued: Kafka would refuse it.
func TestTooLarge(t *testing.T) {
	h, err := netlog.Open("kafka://127.0.0.1:9092/logs?batch-bytes=1KiB", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	err = h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, strings.Repeat("x", 2000), 0))
	if !errors.Is(err, netlog.ErrTooLarge) {
		t.Errorf("Handle of a record over batch-bytes: %v", err)
	}
	if st := h.Stats(); st.TooLarge != 1 || st.Enqueued != 0 {
		t.Errorf("stats %+v", st)
	}
}
