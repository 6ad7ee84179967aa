package otlp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/netlog-go/netlog/internal/transport"
)

// The tests here give the Sender each answer the OTLP specification
// names, from a local HTTP server; the interop tests (package otlp at the
// root) run it against a real Collector.

// endpoint answers each request with answer(bodies of the records).
type endpoint struct {
	mu       sync.Mutex
	requests [][]string // each request's record bodies
}

func (e *endpoint) serve(t *testing.T, answer func(w http.ResponseWriter, bodies []string)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var data logspb.LogsData
		if err := proto.Unmarshal(raw, &data); err != nil || r.URL.Path != "/v1/logs" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("request %s %q: %v", r.URL.Path, r.Header.Get("Content-Type"), err)
		}
		var bodies []string
		for _, rl := range data.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					bodies = append(bodies, lr.Body.GetStringValue())
				}
			}
		}
		e.mu.Lock()
		e.requests = append(e.requests, bodies)
		e.mu.Unlock()
		answer(w, bodies)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/logs"
}

func (e *endpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.requests)
}

// frames are records with the messages msgs, back to back.
func frames(msgs ...string) ([]byte, []int) {
	var b []byte
	var ends []int
	for _, m := range msgs {
		b = append(b, frame(`{"name":"t","levelno":20,"msg":"`+m+`"}`)...)
		ends = append(ends, len(b))
	}
	return b, ends
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSenderDelivers(t *testing.T) {
	var e endpoint
	url := e.serve(t, func(w http.ResponseWriter, _ []string) {})
	s := newSender(t, Config{URL: url})
	b, ends := frames("1", "2", "3")
	if n, err := s.WriteFrames(context.Background(), b, ends); n != 3 || err != nil {
		t.Fatalf("WriteFrames = %d, %v", n, err)
	}
	if len(e.requests) != 1 || len(e.requests[0]) != 3 {
		t.Errorf("requests %v, want one of 3 records", e.requests)
	}
	if s.Connects() != 1 {
		t.Errorf("connects %d", s.Connects())
	}
}

// TestSenderRefusal: a 400 for a batch falls on the frame it is about,
// the frames before it delivered; a 500 refuses too (not retryable).
func TestSenderRefusal(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusInternalServerError} {
		var e endpoint
		url := e.serve(t, func(w http.ResponseWriter, bodies []string) {
			for _, b := range bodies {
				if b == "bad" {
					w.Header().Set("Content-Type", "application/x-protobuf")
					w.WriteHeader(code)
					w.Write(protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "no bad records"))
					return
				}
			}
		})
		s := newSender(t, Config{URL: url})
		b, ends := frames("ok", "bad", "later")
		n, err := s.WriteFrames(context.Background(), b, ends)
		var rf *transport.Refusal
		if n != 1 || !errors.As(err, &rf) || rf.After != 0 || !errors.Is(err, transport.ErrRefused) {
			t.Fatalf("%d: WriteFrames = %d, %v; want 1 and a refusal", code, n, err)
		}
		if !bytes.Contains([]byte(err.Error()), []byte("no bad records")) {
			t.Errorf("%d: error %q does not give the endpoint's message", code, err)
		}
		// The whole batch, then "ok" alone, then "bad" alone.
		if e.count() != 3 {
			t.Errorf("%d: requests %v", code, e.requests)
		}
	}
}

// TestSenderRetryAfter: 503 and 429 are retried, no earlier than the
// Retry-After asks, within the backoff's cap.
func TestSenderRetryAfter(t *testing.T) {
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		var e endpoint
		url := e.serve(t, func(w http.ResponseWriter, _ []string) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(code)
		})
		now := time.Unix(1000, 0)
		s := newSender(t, Config{URL: url, Now: func() time.Time { return now }, Backoff: transport.Backoff{Max: time.Minute}})
		b, ends := frames("1")
		n, err := s.WriteFrames(context.Background(), b, ends)
		if n != 0 || err == nil || errors.Is(err, transport.ErrRefused) {
			t.Fatalf("%d: WriteFrames = %d, %v; want 0 and an error to retry", code, n, err)
		}
		if got := s.RetryAt(); !got.Equal(now.Add(time.Minute)) {
			t.Errorf("%d: RetryAt %v, want the cap, %v", code, got, now.Add(time.Minute))
		}
		if _, err := s.WriteFrames(context.Background(), b, ends); !errors.Is(err, transport.ErrBackingOff) || e.count() != 1 {
			t.Errorf("%d: during Retry-After: %v after %d requests", code, err, e.count())
		}
		now = now.Add(time.Minute)
		s.WriteFrames(context.Background(), b, ends)
		if e.count() != 2 {
			t.Errorf("%d: after Retry-After: %d requests", code, e.count())
		}
	}
}

// TestSenderPartialSuccess counts and reports the records an endpoint
// took but rejected.
func TestSenderPartialSuccess(t *testing.T) {
	var e endpoint
	url := e.serve(t, func(w http.ResponseWriter, _ []string) {
		ps := protowire.AppendTag(nil, 1, protowire.VarintType)
		ps = protowire.AppendVarint(ps, 2)
		ps = protowire.AppendString(protowire.AppendTag(ps, 2, protowire.BytesType), "two too old")
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), ps))
	})
	var got []any
	s := newSender(t, Config{URL: url, OnRejected: func(n, total int64, msg string) { got = append(got, n, total, msg) }})
	b, ends := frames("1", "2", "3")
	for range 2 {
		if n, err := s.WriteFrames(context.Background(), b, ends); n != 3 || err != nil {
			t.Fatalf("WriteFrames = %d, %v", n, err)
		}
	}
	if len(got) != 6 || got[0] != int64(2) || got[1] != int64(2) || got[2] != "two too old" || got[4] != int64(4) || s.Rejected() != 4 {
		t.Errorf("OnRejected got %v; Rejected %d", got, s.Rejected())
	}
}

// TestSenderDown: with nothing listening the frames are not delivered,
// not refused, and the next connect waits for the backoff.
func TestSenderDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/v1/logs"
	ln.Close()
	s := newSender(t, Config{URL: url, Backoff: transport.Backoff{Initial: time.Hour, Max: time.Hour}})
	b, ends := frames("1")
	n, err := s.WriteFrames(context.Background(), b, ends)
	if n != 0 || err == nil || errors.Is(err, transport.ErrRefused) || s.ConnectFailures() != 1 {
		t.Fatalf("WriteFrames = %d, %v (connect failures %d)", n, err, s.ConnectFailures())
	}
	if time.Until(s.RetryAt()) < 30*time.Minute {
		t.Errorf("RetryAt %v", s.RetryAt())
	}
	if _, err := s.WriteFrames(context.Background(), b, ends); !errors.Is(err, transport.ErrBackingOff) {
		t.Errorf("during the backoff: %v", err)
	}
}
