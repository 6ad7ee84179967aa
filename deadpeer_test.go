//go:build unix

package netlog_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// TestPeerThatNeverReads: a collector that accepts and never reads. The
// socket buffers fill, the write deadline fires, the records that did not
// go out stay queued, and Close returns at its deadline, saying how many
// it gave up.
func TestPeerThatNeverReads(t *testing.T) {
	h := newHandler(t, false, "tcp", silentCollector(t), &netlog.Options{
		Async:        &netlog.Async{MaxBytes: 1 << 30},
		WriteTimeout: 200 * time.Millisecond,
		Backoff:      netlog.Backoff{Initial: 50 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	log := slog.New(h)
	big := strings.Repeat("x", 4096)
	for range 20000 { // 80 MB: far more than the kernel buffers
		log.Info(big)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := h.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush: %v", err)
	}
	if st := h.Stats(); st.WriteErrors == 0 || st.Pending == 0 {
		t.Errorf("while stuck: %+v", st)
	}
	start := time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := h.Close(ctx)
	if took := time.Since(start); took > time.Second || err == nil || !strings.Contains(err.Error(), "records not delivered") {
		t.Errorf("Close took %v: %v", took, err)
	}
	st := h.Stats()
	if st.Pending != 0 || st.Dropped.Closed == 0 || st.Enqueued != st.Written+st.Dropped.Total() {
		t.Errorf("after Close: %+v", st)
	}
}

// TestPeerResetsMidFrame: a collector that reads the start of a frame
// too large for the kernel's buffers and resets the connection. The write
// fails part way; the handler reconnects and the record arrives whole on
// the next connection, followed by the next one.
func TestPeerResetsMidFrame(t *testing.T) {
	// A small receive buffer, fixed before the connection exists, so that
	// the kernel cannot take the whole frame (autotuning could take 32 MB).
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
		return nil
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	resetDone := make(chan struct{})
	go func() {
		defer close(resetDone)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.ReadFull(c, make([]byte, 10)) // the length prefix and a few bytes
		c.(*net.TCPConn).SetLinger(0)    // close with RST
		c.Close()
		ln.Close()
	}()
	h := newHandler(t, false, "tcp", addr, &netlog.Options{
		Async:   &netlog.Async{},
		Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond},
	})
	slog.New(h).Info("first", "pad", strings.Repeat("p", 16<<20)) // more than the socket buffers hold
	<-resetDone
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 2)
	srv := &receive.Server{MaxFrame: 32 << 20, Sink: receive.SinkFunc(func(e *record.Entry) error { got <- e.Msg; return nil })}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.ServeStream(ctx, ln) }()
	defer func() { cancel(); <-done }()
	slog.New(h).Info("second")
	fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer fcancel()
	if err := h.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	var arrived []string
	for len(arrived) < 2 {
		select {
		case m := <-got:
			arrived = append(arrived, m)
		case <-time.After(time.Minute):
			t.Fatalf("arrived %q and no more; stats %+v", arrived, h.Stats())
		}
	}
	if arrived[0] != "first" || arrived[1] != "second" {
		t.Errorf("arrived %q", arrived)
	}
	if st := h.Stats(); st.Written != 2 || st.WriteErrors == 0 || st.Connects != 2 {
		t.Errorf("stats %+v", st)
	}
}
