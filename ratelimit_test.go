package netlog_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
)

// TestOnErrorRateLimited: a storm of failures makes at most one OnError
// call per ErrorInterval, never two at once, and the next call counts
// what it skipped.
func TestOnErrorRateLimited(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // refused
	var calls, inside, overlapped atomic.Int64
	suppressed := make(chan int, 100)
	h, err := netlog.NewSocketHandler("tcp", addr, &netlog.Options{
		Backoff: netlog.Backoff{Initial: time.Microsecond, Max: time.Microsecond}, // every Handle dials
		OnError: func(err error) {
			if inside.Add(1) > 1 {
				overlapped.Add(1)
			}
			defer inside.Add(-1)
			calls.Add(1)
			var e *netlog.Error
			if errors.As(err, &e) {
				suppressed <- e.Suppressed
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	log := slog.New(h)
	for range 200 {
		log.Error("lost")
		time.Sleep(time.Millisecond) // past the backoff: each one is a new failure
	}
	// Wait for the first call, then past one interval for a second.
	<-suppressed
	time.Sleep(netlog.ErrorInterval + 100*time.Millisecond)
	log.Error("one more")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.Close(ctx) // waits for a call in flight
	elapsed := time.Since(start)
	limit := int64(elapsed/netlog.ErrorInterval) + 1
	if n := calls.Load(); n < 2 || n > limit {
		t.Errorf("%d OnError calls in %v, want 2 to %d", n, elapsed, limit)
	}
	if overlapped.Load() > 0 {
		t.Error("OnError was called while a call was in flight")
	}
	if st := h.Stats(); st.Failed != 201 || st.LastError == nil {
		t.Errorf("stats %+v", st)
	}
	total := 0
	for len(suppressed) > 0 {
		total += <-suppressed
	}
	if total == 0 {
		t.Error("no call counted the errors it skipped")
	}
}
