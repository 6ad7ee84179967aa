package spool

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestWaitReportsDelivery: Wait returns nil once the frames up to a
// sequence number are written, waits while they are held, and fails for
// a range holding a frame dropped to make room, but not for a range
// beside it.
func TestWaitReportsDelivery(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	h := newHeld(t)
	s, err := New(h.link(t), Config{MaxRecords: 3, Overflow: DropOldest})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var seqs []uint64
	for i := range 5 { // 0 goes in flight; 1 and 2 are dropped for 3 and 4
		q, err := s.Enqueue(ctx, fmt.Appendf(nil, "%d\n", i), 6, BlockCtx)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, q)
		if i == 0 {
			<-h.dialing
		}
	}
	if seqs[4] != 4 {
		t.Fatalf("sequence numbers %v", seqs)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := s.Wait(short, 0, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait while held: %v", err)
	}
	close(h.release)
	if err := s.Wait(ctx, 0, 0); err != nil {
		t.Errorf("Wait(0, 0): %v", err)
	}
	if err := s.Wait(ctx, 3, 4); err != nil {
		t.Errorf("Wait(3, 4): %v", err)
	}
	if err := s.Wait(ctx, 0, 4); !errors.Is(err, ErrLost) {
		t.Errorf("Wait(0, 4) over dropped frames: %v", err)
	}
	h.arrived(t, s)
	if err := s.Wait(ctx, 3, 4); err != nil {
		t.Errorf("Wait(3, 4) after Close: %v", err)
	}
}

// TestWaitNoWaitAndClose: NoWait drops a frame that does not fit under
// Block without waiting; BlockCtx waits until ctx ends; frames pending at
// Close fail their Wait.
func TestWaitNoWaitAndClose(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	h := newHeld(t)
	s, err := New(h.link(t), Config{MaxRecords: 1, Overflow: Block, BlockTimeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q, _ := s.Enqueue(ctx, []byte("a\n"), 6, BlockCtx)
	<-h.dialing
	if _, err := s.Enqueue(ctx, []byte("b\n"), 6, NoWait); !errors.Is(err, ErrFull) {
		t.Errorf("NoWait: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := s.Enqueue(short, []byte("c\n"), 6, BlockCtx); !errors.Is(err, ErrTimeout) || short.Err() == nil {
		t.Errorf("BlockCtx returned before ctx ended: %v", err)
	}
	if c := s.Counts(); c.Dropped.Newest != 1 || c.Dropped.Timeout != 1 {
		t.Errorf("%+v", c)
	}
	closing, stop := context.WithTimeout(ctx, 20*time.Millisecond)
	defer stop()
	s.Close(closing)
	if err := s.Wait(ctx, q, q); !errors.Is(err, ErrLost) {
		t.Errorf("Wait for a frame pending at Close: %v", err)
	}
}
