package netlog_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testcert"
	_ "github.com/netlog-go/netlog/smtp" // smtp:// and smtps://
)

var registerOnce sync.Once

// memoryHandler is a program's own destination, opened by memory://.
type memoryHandler struct {
	slog.Handler
}

func (memoryHandler) Flush(context.Context) error { return nil }
func (memoryHandler) Close(context.Context) error { return nil }
func (memoryHandler) Stats() netlog.Stats         { return netlog.Stats{} }

// TestOpenSharedOptions is the CLI of issue 12: one options value, with
// fields that apply to some schemes only, opens every scheme; a query
// parameter that does not apply is an error naming it.
func TestOpenSharedOptions(t *testing.T) {
	registerOnce.Do(func() {
		netlog.RegisterScheme("memory", func(u *url.URL, o *netlog.Options) (netlog.Handler, error) {
			return memoryHandler{slog.DiscardHandler}, nil
		})
	})
	dir := t.TempDir()
	defaults := &netlog.Options{
		Level:   slog.LevelDebug,
		Codec:   netlog.CodecJSON,
		TLS:     clientTLS(t, nil, testcert.New(t).CAFile),
		Async:   &netlog.Async{MaxRecords: 1000},
		Backoff: netlog.Backoff{Initial: 10 * time.Millisecond},
		OnError: func(error) {},
	}
	sock := filepath.Join(dir, "s")
	for _, u := range []string{
		"tcp://127.0.0.1:9", "tcp4://127.0.0.1:9", "tls://127.0.0.1:9", "unix://" + sock,
		"udp://127.0.0.1:9", "unixgram://" + sock,
		"syslog:///dev/log", "syslog+udp://127.0.0.1:9", "syslog+tcp://127.0.0.1:9", "syslog+tls://127.0.0.1:9",
		"syslog+relp://127.0.0.1:9", "syslog+unix://" + sock, "syslog+unixgram://" + sock,
		"smtp://127.0.0.1:9?from=a@example.com&to=b@example.com",
		"smtps://127.0.0.1:9?from=a@example.com&to=b@example.com",
		"stderr://", "stdout://?format=json", "memory://anything",
	} {
		h, err := netlog.Open(u, defaults)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if !h.Enabled(context.Background(), slog.LevelDebug) && !strings.HasPrefix(u, "memory") {
			t.Errorf("%s: the shared Level did not apply", u)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		h.Close(ctx)
		cancel()
	}
	for u, param := range map[string]string{
		"tcp://127.0.0.1:9?ca=/x.pem":                                             "ca",
		"udp://127.0.0.1:9?window=4":                                              "window",
		"stderr://?async=true":                                                    "async",
		"syslog+udp://127.0.0.1:9?codec=json":                                     "codec",
		"smtp://127.0.0.1:9?from=a@example.com&to=b@example.com&async=true":       "async",
		"smtp://127.0.0.1:9?from=a@example.com&to=b@example.com&write-timeout=1s": "write-timeout",
		"stdout://?format=xml":                                                    "format",
	} {
		if _, err := netlog.Open(u, defaults); err == nil || !strings.Contains(err.Error(), param) {
			t.Errorf("%s: %v, want an error naming %s", u, err, param)
		}
	}
	if _, err := netlog.Open("nosuch://x", defaults); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("unknown scheme: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("registering tcp again did not panic")
			}
		}()
		netlog.RegisterScheme("tcp", func(*url.URL, *netlog.Options) (netlog.Handler, error) { return nil, errors.New("no") })
	}()
}
