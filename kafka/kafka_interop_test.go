package kafka_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.uber.org/goleak"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/kafka"
)

// open opens url and closes the handler with the test.
func open(t *testing.T, url string) netlog.Handler {
	t.Helper()
	h, err := netlog.Open(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// flush waits, generously, until Kafka has acknowledged every record.
func flush(t *testing.T, h netlog.Handler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v; stats %+v", err, h.Stats())
	}
}

// TestRecordsReachKcat: records logged through kafka:// are in the topic
// when Flush returns, and kcat (librdkafka) reads them back: the JSON
// value field by field, the headers, the timestamp and no key.
func TestRecordsReachKcat(t *testing.T) {
	k := peer.StartKafka(t, "logs")
	h := open(t, "kafka://"+k.Addr+"/logs?name=svc")
	created := time.Date(2026, 12, 1, 10, 11, 12, 345678000, time.UTC)
	levels := []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	for i, l := range levels {
		r := slog.NewRecord(created.Add(time.Duration(i)*time.Second), l, "message "+strconv.Itoa(i)+" ü \"q\"", 0)
		r.AddAttrs(slog.Int("n", i), slog.String("user", "ada"), slog.Group("req", slog.String("id", "r-1")))
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, h)
	recs := k.Read(t, "logs")
	if len(recs) != len(levels) {
		t.Fatalf("kcat read %d records, want %d: %+v", len(recs), len(levels), recs)
	}
	for i, r := range recs {
		var v map[string]any
		if err := json.Unmarshal([]byte(r.Value), &v); err != nil {
			t.Fatalf("record %d: value %q: %v", i, r.Value, err)
		}
		at := created.Add(time.Duration(i) * time.Second)
		want := map[string]any{"name": "svc", "levelname": []string{"INFO", "WARNING", "ERROR"}[i],
			"msg": "message " + strconv.Itoa(i) + " ü \"q\"", "n": float64(i), "user": "ada",
			"req": map[string]any{"id": "r-1"}}
		for key, w := range want {
			if fmt.Sprint(v[key]) != fmt.Sprint(w) {
				t.Errorf("record %d: %s = %v, want %v", i, key, v[key], w)
			}
		}
		if c, _ := v["created"].(float64); math.Abs(c-float64(at.UnixMicro())/1e6) > 1e-6 {
			t.Errorf("record %d: created %v, want %v", i, v["created"], float64(at.UnixMicro())/1e6)
		}
		if r.Key != nil || r.Headers["name"] != "svc" || r.Headers["level"] != want["levelname"] || len(r.Headers) != 2 {
			t.Errorf("record %d: key %v, headers %v", i, r.Key, r.Headers)
		}
		if r.Timestamp != at.UnixMilli() {
			t.Errorf("record %d: timestamp %d, want %d (the record's time)", i, r.Timestamp, at.UnixMilli())
		}
	}
	if st := h.Stats(); st.Written != uint64(len(levels)) || st.Pending != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestKeys: key=name keys each record by its logger name, key=peer by
// the address of the sender a relay got it from (a record's peer
// attribute, as netlog serve writes it), with peer and listener headers;
// a record without a peer has no key.
func TestKeys(t *testing.T) {
	k := peer.StartKafka(t, "keys")
	for _, c := range []struct{ key, want string }{{"name", "svc"}, {"peer", "192.0.2.7:50122"}, {"none", ""}} {
		topic := "keys-" + c.key
		h := open(t, "kafka://"+k.Addr+"/"+topic+"?name=svc&key="+c.key)
		logger := slog.New(h)
		logger.Info("relayed", "peer", "192.0.2.7:50122", "listener", "127.0.0.1:9020")
		logger.Info("local")
		flush(t, h)
		recs := k.Read(t, topic)
		if len(recs) != 2 {
			t.Fatalf("key=%s: kcat read %d records, want 2", c.key, len(recs))
		}
		if key := recs[0].Key; c.want == "" && key != nil || c.want != "" && (key == nil || *key != c.want) {
			t.Errorf("key=%s: relayed record's key %v, want %q", c.key, key, c.want)
		}
		if hd := recs[0].Headers; hd["peer"] != "192.0.2.7:50122" || hd["listener"] != "127.0.0.1:9020" {
			t.Errorf("key=%s: relayed record's headers %v", c.key, hd)
		}
		if key := recs[1].Key; (c.key == "name") != (key != nil) {
			t.Errorf("key=%s: local record's key %v", c.key, key)
		}
		if _, ok := recs[1].Headers["peer"]; ok {
			t.Errorf("key=%s: local record has a peer header: %v", c.key, recs[1].Headers)
		}
	}
}

// TestCompressions: kcat reads what each codec compressed.
func TestCompressions(t *testing.T) {
	k := peer.StartKafka(t, "c")
	for _, c := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		h := open(t, "kafka://"+k.Addr+"/c-"+c+"?compression="+c+"&linger=5ms")
		for i := range 50 {
			slog.New(h).Info("compressed", "i", i)
		}
		flush(t, h)
		if recs := k.Read(t, "c-"+c); len(recs) != 50 || !json.Valid([]byte(recs[49].Value)) {
			t.Errorf("compression=%s: kcat read %d records of 50", c, len(recs))
		}
	}
}

// TestSync: with async=false, Handle returns once Kafka has the record,
// whatever acks says (with acks=none: once it is sent).
func TestSync(t *testing.T) {
	k := peer.StartKafka(t, "sync")
	for _, acks := range []string{"all", "leader", "none"} {
		topic := "sync-" + acks
		h := open(t, "kafka://"+k.Addr+"/"+topic+"?async=false&acks="+acks)
		slog.New(h).Info("at once")
		recs := k.Read(t, topic)
		for deadline := time.Now().Add(30 * time.Second); acks == "none" && len(recs) == 0 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond) // sent, unanswered: the broker may not have stored it yet
			recs = k.Read(t, topic)
		}
		if len(recs) != 1 {
			t.Fatalf("acks=%s: kcat read %d records after Handle, want 1", acks, len(recs))
		}
		if st := h.Stats(); st.Written != 1 || st.Enqueued != 0 {
			t.Errorf("acks=%s: stats %+v", acks, st)
		}
	}
}

// TestBrokerDown: while the broker is down, records wait in the queue
// and Flush does not report them delivered; once it is back, every one
// arrives, once, in order.
func TestBrokerDown(t *testing.T) {
	k := peer.StartKafka(t, "down")
	h := open(t, "kafka://"+k.Addr+"/down?write-timeout=500ms")
	logger := slog.New(h)
	const before, during = 200, 2000
	for i := range before {
		logger.Info("r", "i", i)
	}
	flush(t, h)
	k.Stop(t)
	for i := before; i < before+during; i++ {
		logger.Info("r", "i", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err := h.Flush(ctx)
	cancel()
	if err == nil {
		t.Fatalf("Flush returned nil with the broker down; stats %+v", h.Stats())
	}
	if st := h.Stats(); st.Pending == 0 || st.Written != before {
		t.Fatalf("broker down: stats %+v", st)
	}
	k.Start(t)
	flush(t, h)
	var seen []int
	for _, r := range k.Read(t, "down") {
		var v struct{ I int }
		if err := json.Unmarshal([]byte(r.Value), &v); err != nil {
			t.Fatalf("value %q: %v", r.Value, err)
		}
		seen = append(seen, v.I)
	}
	if s := peer.Missing(before+during, seen); s != "" {
		t.Errorf("%s; stats %+v", s, h.Stats())
	}
	st := h.Stats()
	t.Logf("stats after the restart: %+v", st)
	if st.Written != before+during || st.Dropped.Total() != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestNew: the constructor's handler, its Options documented in go doc.
func TestNew(t *testing.T) {
	k := peer.StartKafka(t, "new")
	h, err := kafka.New([]string{k.Addr}, "new", &kafka.Options{Options: netlog.Options{Name: "n"}, Key: kafka.KeyName, Acks: kafka.AcksAll})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	slog.New(h).Info("hello")
	flush(t, h)
	if recs := k.Read(t, "new"); len(recs) != 1 || recs[0].Key == nil || *recs[0].Key != "n" {
		t.Fatalf("kcat read %+v", recs)
	}
}

// TestTLS: over TLS, the broker's certificate verified against ca=,
// records reach the topic, and kcat reads them over TLS; without the CA
// the certificate is refused, and nothing counts as written.
func TestTLS(t *testing.T) {
	certs := testcert.New(t)
	k := peer.StartKafka(t, "tls", "-tls-cert", certs.CertFile, "-tls-key", certs.KeyFile)
	h := open(t, "kafka://"+k.Addr+"/tls?tls=true&ca="+certs.CAFile)
	slog.New(h).Info("secured")
	flush(t, h)
	recs := k.Read(t, "tls", "security.protocol=SSL", "ssl.ca.location="+certs.CAFile)
	if len(recs) != 1 || !strings.Contains(recs[0].Value, `"msg":"secured"`) {
		t.Fatalf("kcat read %+v", recs)
	}
	unverified := open(t, "kafka://"+k.Addr+"/tls?tls=true&write-timeout=300ms")
	notWritten(t, unverified, "certificate")
}

// TestSASL: SCRAM-SHA-512 over TLS: the right password delivers, a wrong
// one connects nowhere and delivers nothing. kcat (librdkafka 2.0.2) cannot authenticate to kfake (it
// finds no SASL handshake in kfake's ApiVersions), so franz-go's consumer
// reads the topic back.
func TestSASL(t *testing.T) {
	certs := testcert.New(t)
	k := peer.StartKafka(t, "sasl", "-tls-cert", certs.CertFile, "-tls-key", certs.KeyFile,
		"-sasl", "SCRAM-SHA-512:ada:s3cret")
	h := open(t, "kafka://ada:s3cret@"+k.Addr+"/sasl?tls=true&sasl=scram-sha-512&ca="+certs.CAFile)
	slog.New(h).Info("authenticated")
	flush(t, h)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Addr), kgo.ConsumeTopics("sasl"),
		kgo.DialTLSConfig(&tls.Config{RootCAs: certs.Pool}),
		kgo.SASL(scram.Auth{User: "ada", Pass: "s3cret"}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) == 0 && ctx.Err() == nil {
		f := cl.PollFetches(ctx)
		got = append(got, f.Records()...)
	}
	if len(got) != 1 || !strings.Contains(string(got[0].Value), `"msg":"authenticated"`) {
		t.Fatalf("read back %d records", len(got))
	}
	wrong := open(t, "kafka://ada:wrong@"+k.Addr+"/sasl?tls=true&sasl=scram-sha-512&write-timeout=300ms&ca="+certs.CAFile)
	notWritten(t, wrong, "last connect") // kfake hangs up on a failed authentication: the error is its EOF
}

// notWritten logs one record through h and checks that it is not
// delivered, and that the handler's last error says why with want.
func notWritten(t *testing.T, h netlog.Handler, want string) {
	t.Helper()
	slog.New(h).Info("never")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := h.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded")
	}
	st := h.Stats()
	var e *netlog.Error
	if st.Written != 0 || st.Connects != 0 || !errors.As(st.LastError, &e) || !strings.Contains(e.Error(), want) {
		t.Errorf("stats %+v; want an error about %s", st, want)
	}
}

// TestCloseBrokerDown: Close with the broker down gives up at its
// deadline, says how many records were dropped, counts them, and leaves
// no goroutine of the handler or the producer behind.
func TestCloseBrokerDown(t *testing.T) {
	k := peer.StartKafka(t, "close")
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	h, err := netlog.Open("kafka://"+k.Addr+"/close?write-timeout=200ms", nil)
	if err != nil {
		t.Fatal(err)
	}
	slog.New(h).Info("delivered")
	flush(t, h)
	k.Stop(t)
	for i := range 100 {
		slog.New(h).Info("stranded", "i", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err = h.Close(ctx)
	if !errors.Is(err, netlog.ErrClosed) || !strings.Contains(err.Error(), "100") {
		t.Errorf("Close: %v", err)
	}
	if st := h.Stats(); st.Written != 1 || st.Dropped.Closed != 100 || st.Pending != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestSyncBrokerDown: a synchronous Handle with the broker down returns
// an error after write-timeout instead of blocking its caller.
func TestSyncBrokerDown(t *testing.T) {
	k := peer.StartKafka(t, "syncdown")
	h := open(t, "kafka://"+k.Addr+"/syncdown?async=false&write-timeout=300ms")
	slog.New(h).Info("up")
	k.Stop(t)
	if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "down", 0)); err == nil {
		t.Fatal("Handle with the broker down returned nil")
	}
	if st := h.Stats(); st.Written != 1 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestSequenceHeaders: with seq=true, kcat reads each record's sequence
// number and the handler's instance id as headers, equal to the fields.
func TestSequenceHeaders(t *testing.T) {
	k := peer.StartKafka(t, "seq")
	h := open(t, "kafka://"+k.Addr+"/seq?seq=true")
	for range 3 {
		slog.New(h).Info("numbered")
	}
	flush(t, h)
	recs := k.Read(t, "seq")
	if len(recs) != 3 {
		t.Fatalf("kcat read %d records, want 3", len(recs))
	}
	for i, r := range recs {
		var v map[string]any
		if err := json.Unmarshal([]byte(r.Value), &v); err != nil {
			t.Fatal(err)
		}
		seq, id := r.Headers["netlog_seq"], r.Headers["netlog_id"]
		if seq == "" || id == "" || seq != fmt.Sprint(v["netlog_seq"]) || id != fmt.Sprint(v["netlog_id"]) || id != recs[0].Headers["netlog_id"] {
			t.Errorf("record %d: headers %v, fields netlog_seq=%v netlog_id=%v", i, r.Headers, v["netlog_seq"], v["netlog_id"])
		}
	}
}
