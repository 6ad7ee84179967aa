package spool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netlog-go/netlog/internal/transport"
)

// held is a destination whose first connect waits until the test lets it
// through: the writer then holds the first frame in flight, and every
// later frame stays queued, so what each policy keeps is deterministic.
type held struct {
	dialing chan struct{} // receives when the writer first dials
	release chan struct{} // closed to let the dial through
	ln      net.Listener
	lines   chan string // what arrived, line by line
}

func newHeld(t *testing.T) *held {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &held{dialing: make(chan struct{}, 1), release: make(chan struct{}), ln: ln, lines: make(chan string, 1000)}
	go func() {
		defer close(h.lines)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewScanner(c)
		for r.Scan() {
			h.lines <- r.Text()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return h
}

func (h *held) link(t *testing.T) *transport.Link {
	l, err := transport.NewLink(transport.Config{Stream: true, Dial: func(ctx context.Context) (net.Conn, error) {
		select {
		case h.dialing <- struct{}{}:
		default:
		}
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", h.ln.Addr().String())
	}, DialTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// arrived closes s (after delivering everything) and returns what the
// destination read.
func (h *held) arrived(t *testing.T, s *Spool) []string {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for l := range h.lines {
		got = append(got, l)
	}
	return got
}

type rec struct {
	name string
	sev  int
}

// A stream of records of mixed severities, for a queue of 4 whose first
// record is in flight.
var mixed = []rec{{"r0", 6}, {"r1", 6}, {"r2", 7}, {"r3", 3}, {"r4", 7}, {"r5", 4}, {"r6", 6}, {"r7", 2}, {"r8", 7}}

func TestOverflowPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy Overflow
		kept   string
		drops  Drops
	}{
		{DropNewest, "r0 r1 r2 r3", Drops{Newest: 5}},
		{DropOldest, "r0 r6 r7 r8", Drops{Oldest: 5}},
		{DropLowest, "r0 r3 r5 r7", Drops{Lowest: 4, Newest: 1}},
		{Block, "r0 r1 r2 r3", Drops{Timeout: 5}},
	} {
		for _, durable := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/durable=%t", tc.policy, durable), func(t *testing.T) {
				testOverflow(t, tc.policy, tc.kept, tc.drops, durable)
			})
		}
	}
}

// testOverflow is one case of TestOverflowPolicies.
func testOverflow(t *testing.T, policy Overflow, kept string, drops Drops, durable bool) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	h := newHeld(t)
	cfg := Config{MaxRecords: 4, Overflow: policy, BlockTimeout: 20 * time.Millisecond}
	if durable {
		cfg.Dir = t.TempDir()
	}
	s, err := New(h.link(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range mixed {
		err := s.Put(context.Background(), []byte(r.name+"\n"), r.sev)
		if i == 0 {
			<-h.dialing // r0 is in flight, the destination "down"
		}
		if err != nil && !errors.Is(err, ErrFull) && !errors.Is(err, ErrTimeout) {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	c := s.Counts()
	if c.Dropped != drops || c.Enqueued != uint64(len(mixed)) || c.Pending != 4 || c.Written != 0 {
		t.Errorf("while down: %+v", c)
	}
	close(h.release)
	if got := strings.Join(h.arrived(t, s), " "); got != kept {
		t.Errorf("arrived %q, want %q", got, kept)
	}
	c = s.Counts()
	if c.Written != 4 || c.Pending != 0 || c.Enqueued != c.Written+c.Dropped.Total()+c.Pending {
		t.Errorf("after: %+v", c)
	}
	if durable {
		if f := segFiles(t, cfg.Dir); len(f) != 0 {
			t.Errorf("files left: %v", f)
		}
	}
}

// TestBlockWaitsForRoom: under Block, a caller waits while the queue is
// full and its record goes out once the writer has made room.
func TestBlockWaitsForRoom(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	h := newHeld(t)
	s, err := New(h.link(t), Config{MaxRecords: 2, Overflow: Block, BlockTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.Put(context.Background(), []byte("a\n"), 6)
	<-h.dialing
	s.Put(context.Background(), []byte("b\n"), 6)
	put := make(chan error)
	go func() { put <- s.Put(context.Background(), []byte("c\n"), 6) }()
	close(h.release)
	if err := <-put; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(h.arrived(t, s), " "); got != "a b c" {
		t.Errorf("arrived %q", got)
	}
}

// TestBounds: the byte bound holds as the record bound does, and a frame
// larger than the whole queue is dropped rather than waited for.
func TestBounds(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	h := newHeld(t)
	s, err := New(h.link(t), Config{MaxBytes: 10, Overflow: Block})
	if err != nil {
		t.Fatal(err)
	}
	s.Put(context.Background(), []byte("0123\n"), 6)
	<-h.dialing
	if err := s.Put(context.Background(), []byte("abcd\n"), 6); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), []byte("0123456789a\n"), 0); !errors.Is(err, ErrFull) {
		t.Errorf("oversized frame: %v", err)
	}
	if c := s.Counts(); c.PendingBytes != 10 || c.Dropped.Newest != 1 {
		t.Errorf("%+v", c)
	}
	close(h.release)
	if got := strings.Join(h.arrived(t, s), " "); got != "0123 abcd" {
		t.Errorf("arrived %q", got)
	}
}

// TestCloseWhileDown: Flush and Close give up at their deadlines, say how
// many records are left, and count them; Put after Close is refused.
func TestCloseWhileDown(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	h := newHeld(t)
	s, err := New(h.link(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		s.Put(context.Background(), fmt.Appendf(nil, "%d\n", i), 6)
	}
	<-h.dialing
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Flush(ctx); err == nil || !strings.Contains(err.Error(), "10 records not yet delivered") {
		t.Errorf("Flush: %v", err)
	}
	if err := s.Close(ctx); err == nil || !strings.Contains(err.Error(), "10 records not delivered") {
		t.Errorf("Close: %v", err)
	}
	if err := s.Put(context.Background(), []byte("late\n"), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
	c := s.Counts()
	if c.Dropped.Closed != 10 || c.Refused != 1 || c.Enqueued != 10 || c.Pending != 0 {
		t.Errorf("%+v", c)
	}
}

// TestOrderAcrossSeverities: frames of many severities, queued while the
// destination is down, go out in the order they were put.
func TestOrderAcrossSeverities(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	h := newHeld(t)
	s, err := New(h.link(t), Config{MaxBatch: 64})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 500 {
		name := fmt.Sprint("r", i)
		want = append(want, name)
		s.Put(context.Background(), []byte(name+"\n"), i*7%Severities)
		if i == 0 {
			<-h.dialing
		}
	}
	close(h.release)
	if got := h.arrived(t, s); !slices.Equal(got, want) {
		t.Errorf("arrived out of order or incomplete: %d records", len(got))
	}
}
