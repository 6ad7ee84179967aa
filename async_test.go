package netlog_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testrecv"
)

// TestAsyncNoGoroutineOutlivesClose: every handler kind, async and sync,
// after records went out and after its destination vanished, leaves no
// goroutine behind once Close returns.
func TestAsyncNoGoroutineOutlivesClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, network := range []string{"tcp", "unix", "udp", "unixgram"} {
		for _, async := range []*netlog.Async{nil, {}} {
			t.Run(network, func(t *testing.T) { // its receiver stops at the end
				r := testrecv.Start(t, network)
				datagram := network == "udp" || network == "unixgram"
				h := newHandler(t, datagram, network, r.Addr, &netlog.Options{Async: async})
				slog.New(h).Info("one")
				r.Next(t)
				if err := h.Close(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
	}
	sh, err := netlog.NewSyslogHandler("tcp", unusedAddr(t), &netlog.SyslogOptions{Options: netlog.Options{Async: &netlog.Async{}}})
	if err != nil {
		t.Fatal(err)
	}
	slog.New(sh).Info("never delivered")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := sh.Close(ctx); err == nil || !strings.Contains(err.Error(), "1 records not delivered") {
		t.Errorf("Close with the collector down: %v", err)
	}
}

// unusedAddr is a loopback address nothing listens on.
func unusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentCollector is a loopback address whose listener accepts
// connections, holds them open and never reads or answers.
func silentCollector(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open until the listener closes
		}
	}()
	return ln.Addr().String()
}

// TestAsyncWhileDown: with the collector down, Handle returns at once,
// records wait, the counters add up at every step, and the records go out
// when the collector comes up.
func TestAsyncWhileDown(t *testing.T) {
	addr := unusedAddr(t)
	h := newHandler(t, false, "tcp", addr, &netlog.Options{
		Async:   &netlog.Async{MaxRecords: 100, Overflow: netlog.DropNewest},
		Backoff: netlog.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond},
	})
	log := slog.New(h)
	for i := range 150 {
		log.Info("queued", "i", i)
	}
	st := h.Stats()
	if st.Handled != 150 || st.Enqueued != 150 || st.Dropped.Newest != 50 || st.Pending != 100 ||
		st.Enqueued != st.Written+st.Dropped.Total()+st.Pending {
		t.Errorf("while down: %+v", st)
	}
	// LastError is the latest: the overflow, or a failed connect that the
	// writer, retrying all along, made after it.
	var last *netlog.Error
	if !errors.As(st.LastError, &last) || !(last.Cause == netlog.CauseDropped && errors.Is(last, netlog.ErrQueueFull) || last.Cause == netlog.CauseDial) {
		t.Errorf("LastError after overflow: %v, want the overflow or a failed connect", st.LastError)
	}
	if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "one more", 0)); !errors.Is(err, netlog.ErrQueueFull) {
		t.Errorf("Handle on a full queue: %v, want ErrQueueFull", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.Flush(ctx); err == nil || !strings.Contains(err.Error(), "100 records not yet delivered") {
		t.Errorf("Flush while down: %v", err)
	}

	r := testrecv.StartAt(t, "tcp", addr)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if got := testrecv.Map(r.Next(t))["i"]; got != float64(i) && got != int64(i) {
			t.Fatalf("record %d: i = %v", i, got)
		}
	}
	if st := h.Stats(); st.Written != 100 || st.Pending != 0 || st.Enqueued != st.Written+st.Dropped.Total() {
		t.Errorf("after: %+v", st)
	}
}
