package otlp_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/testcert"
	_ "github.com/netlog-go/netlog/otlp"
)

// attrs indexes a record's attributes by key.
func attrs(kvs []*commonpb.KeyValue) map[string]*commonpb.AnyValue {
	m := map[string]*commonpb.AnyValue{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestCollectorFields logs records through otlp+http:// to a real
// OpenTelemetry Collector and checks every field in its file output.
func TestCollectorFields(t *testing.T) {
	c := peer.StartCollector(t, peer.CollectorOptions{})
	before := time.Now()
	h, err := netlog.Open("otlp+http://"+c.HTTP+"?async=true&name=billing&level=debug", &netlog.Options{AddSource: true})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	created := time.Now()
	log.Debug("debug ✓")
	log.Info("hello", "user", "ana", "n", 42, "ratio", 0.5, "ok", true, slog.Group("http", "status", 200, slog.Group("req", "path", "/x")))
	log.Log(context.Background(), slog.LevelInfo+2, "between")
	log.Warn("careful")
	log.Error("failed", "err", errors.New("boom"))
	log.Log(context.Background(), slog.LevelError+4, "critical")
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	logs := c.Logs(t, 6, 30*time.Second)
	if len(logs) != 6 {
		t.Fatalf("the collector wrote %d records, want 6: %v", len(logs), logs)
	}
	want := []struct {
		body string
		sev  int32
		text string
	}{{"debug ✓", 5, "DEBUG"}, {"hello", 9, "INFO"}, {"between", 12, "Level 25"}, {"careful", 13, "WARNING"}, {"failed", 17, "ERROR"}, {"critical", 21, "CRITICAL"}}
	_, file, _, _ := runtime.Caller(0)
	for i, l := range logs {
		r := l.Record
		if l.Service != "billing" || l.Scope != "billing" {
			t.Errorf("record %d: service %q scope %q, want billing", i, l.Service, l.Scope)
		}
		if r.Body.GetStringValue() != want[i].body || int32(r.SeverityNumber) != want[i].sev || r.SeverityText != want[i].text {
			t.Errorf("record %d: body %q severity %d %q, want %+v", i, r.Body.GetStringValue(), r.SeverityNumber, r.SeverityText, want[i])
		}
		ts := time.Unix(0, int64(r.TimeUnixNano))
		if ts.Before(created.Add(-time.Second)) || ts.After(after) {
			t.Errorf("record %d: time %v, want between %v and %v", i, ts, created, after)
		}
		if obs := time.Unix(0, int64(r.ObservedTimeUnixNano)); obs.Before(before) || obs.After(after) || obs.Before(ts) {
			t.Errorf("record %d: observed %v, time %v", i, obs, ts)
		}
		a := attrs(r.Attributes)
		if a["code.filepath"].GetStringValue() != file || a["code.lineno"].GetIntValue() == 0 ||
			!strings.HasSuffix(a["code.function"].GetStringValue(), "TestCollectorFields") {
			t.Errorf("record %d: source %v %v %v, want %s", i, a["code.filepath"], a["code.lineno"], a["code.function"], file)
		}
		if a["process.pid"].GetIntValue() != int64(os.Getpid()) || a["processName"].GetStringValue() == "" {
			t.Errorf("record %d: process %v %v", i, a["process.pid"], a["processName"])
		}
	}
	a := attrs(logs[1].Record.Attributes)
	for k, v := range map[string]string{"user": "ana", "http.req.path": "/x"} {
		if a[k].GetStringValue() != v {
			t.Errorf("attribute %s = %v, want %q", k, a[k], v)
		}
	}
	if a["n"].GetIntValue() != 42 || a["ratio"].GetDoubleValue() != 0.5 || !a["ok"].GetBoolValue() || a["http.status"].GetIntValue() != 200 {
		t.Errorf("attributes %v", a)
	}
	if got := attrs(logs[4].Record.Attributes)["err"].GetStringValue(); got != "boom" {
		t.Errorf("err attribute %q", got)
	}
}

// TestCollectorDown logs while the collector is down: the records wait in
// the queue and all arrive, once each, after it starts.
func TestCollectorDown(t *testing.T) {
	const n = 2000
	c := peer.StartCollector(t, peer.CollectorOptions{})
	c.Stop()
	h, err := netlog.Open("otlp+http://"+c.HTTP+"?async=true&name=down", &netlog.Options{
		Backoff: netlog.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	for i := range n {
		log.Info("rec", "seq", i)
	}
	// The handler has tried and failed: nothing was lost to that.
	for deadline := time.Now().Add(30 * time.Second); h.Stats().ConnectFailures == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if st := h.Stats(); st.ConnectFailures == 0 || st.Pending == 0 {
		t.Fatalf("before the collector started: %+v", st)
	}
	c.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	seen := make([]int, n)
	for _, l := range c.Logs(t, n, 30*time.Second) {
		seq := attrs(l.Record.Attributes)["seq"].GetIntValue()
		if seq < 0 || seq >= n {
			t.Fatalf("record %v", l.Record)
		}
		seen[seq]++
	}
	checkOnce(t, seen)
	if st := h.Stats(); st.Written != n || st.Dropped.Total() != 0 {
		t.Errorf("stats %+v", st)
	}
}

// checkOnce reports the records missing and duplicated, and the first gap.
func checkOnce(t *testing.T, seen []int) {
	t.Helper()
	missing, dup, first := 0, 0, -1
	for i, k := range seen {
		switch {
		case k == 0:
			missing++
			if first < 0 {
				first = i
			}
		case k > 1:
			dup += k - 1
		}
	}
	if missing > 0 || dup > 0 {
		t.Errorf("of %d records: %d missing (first %d), %d duplicates", len(seen), missing, first, dup)
	}
}

// TestCollectorRefuses sends a record over the collector's request size
// limit between two that fit: the collector answers 400, the handler
// refuses that record (counted, reported as netlog.ErrRefused) and
// delivers the others.
func TestCollectorRefuses(t *testing.T) {
	c := peer.StartCollector(t, peer.CollectorOptions{MaxRequestBodySize: 4096})
	var mu sync.Mutex
	var reported []error
	h, err := netlog.Open("otlp+http://"+c.HTTP+"?async=true&name=refused", &netlog.Options{
		Async: &netlog.Async{Retries: 1},
		OnError: func(err error) {
			mu.Lock()
			reported = append(reported, err)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	log.Info("before")
	log.Info(strings.Repeat("x", 8000))
	log.Info("after")
	if err := h.Close(context.Background()); err != nil && !errors.Is(err, netlog.ErrRefused) {
		t.Fatal(err)
	}
	st := h.Stats()
	if st.Dropped.Refused != 1 || st.Written != 2 {
		t.Errorf("stats %+v, want 1 refused and 2 written", st)
	}
	if !errors.Is(st.LastError, netlog.ErrRefused) || !strings.Contains(st.LastError.Error(), "400") {
		t.Errorf("last error %v", st.LastError)
	}
	logs := c.Logs(t, 2, 30*time.Second)
	if len(logs) != 2 || logs[0].Record.Body.GetStringValue() != "before" || logs[1].Record.Body.GetStringValue() != "after" {
		t.Errorf("the collector wrote %v", logs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) == 0 || !errors.Is(reported[0], netlog.ErrRefused) {
		t.Errorf("OnError got %v", reported)
	}
}

// TestCollectorHTTPS sends over otlp+https to a Collector whose
// certificate a test CA signed: verified with ca=, and refused (a TLS
// error, nothing delivered) without it.
func TestCollectorHTTPS(t *testing.T) {
	certs := testcert.New(t)
	c := peer.StartCollector(t, peer.CollectorOptions{CertFile: certs.CertFile, KeyFile: certs.KeyFile})
	h, err := netlog.Open("otlp+https://"+c.HTTP+"?name=tls&ca="+url.QueryEscape(certs.CAFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "over https", 0)); err != nil {
		t.Fatal(err)
	}
	h.Close(context.Background())
	if logs := c.Logs(t, 1, 30*time.Second); len(logs) != 1 || logs[0].Record.Body.GetStringValue() != "over https" {
		t.Fatalf("the collector wrote %v", logs)
	}
	unverified, err := netlog.Open("otlp+https://"+c.HTTP+"?name=tls", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unverified.Close(context.Background())
	err = unverified.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "unverified", 0))
	var ne *netlog.Error
	if !errors.As(err, &ne) || ne.Cause != netlog.CauseTLS {
		t.Errorf("without the CA: %v, want a TLS error", err)
	}
	if logs := c.Logs(t, 1, 0); len(logs) != 1 {
		t.Errorf("the collector wrote %d records", len(logs))
	}
}

// TestCollectorConcurrentSync: a synchronous handler used by many
// goroutines at once (a request per record, on connections the handler
// shares): every record arrives once.
func TestCollectorConcurrentSync(t *testing.T) {
	const goroutines, each = 8, 50
	c := peer.StartCollector(t, peer.CollectorOptions{})
	h, err := netlog.Open("otlp+http://"+c.HTTP+"?name=sync", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)
				r.AddAttrs(slog.Int("seq", g*each+i))
				if err := h.Handle(context.Background(), r); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if st := h.Stats(); st.Written != goroutines*each || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	seen := make([]int, goroutines*each)
	for _, l := range c.Logs(t, goroutines*each, 30*time.Second) {
		seq := attrs(l.Record.Attributes)["seq"].GetIntValue()
		if seq < 0 || seq >= int64(len(seen)) {
			t.Fatalf("record %v", l.Record)
		}
		seen[seq]++
	}
	checkOnce(t, seen)
}
