package spool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"
)

// maxLost bounds the sequence numbers of dropped frames a Spool keeps for
// Wait; older ones are forgotten, and Wait then fails for the range they
// were in rather than answer wrongly.
const maxLost = 4096

// lostSeqs are the sequence numbers of frames dropped after they were
// queued (to make room, refused by the destination, or at Close).
type lostSeqs struct {
	seqs       []uint64 // ascending, at most maxLost
	forgotLo   uint64   // the range of sequence numbers forgotten, if forgot
	forgotHi   uint64
	forgot     bool
	closedFrom uint64 // with closed: every frame from here on that was pending is dropped
	closed     bool
}

// add remembers that frame q was dropped.
func (l *lostSeqs) add(q uint64) {
	i, _ := slices.BinarySearch(l.seqs, q)
	l.seqs = slices.Insert(l.seqs, i, q)
	if len(l.seqs) > maxLost {
		old := l.seqs[0]
		l.seqs = l.seqs[:copy(l.seqs, l.seqs[1:])]
		if !l.forgot {
			l.forgotLo, l.forgotHi, l.forgot = old, old, true
		}
		l.forgotLo, l.forgotHi = min(l.forgotLo, old), max(l.forgotHi, old)
	}
}

// any reports how many of the frames from..to (inclusive) were dropped,
// or -1 if it cannot tell (forgotten, or pending at Close).
func (l *lostSeqs) any(from, to uint64) int {
	if l.forgot && from <= l.forgotHi && to >= l.forgotLo || l.closed && to >= l.closedFrom {
		return -1
	}
	i, _ := slices.BinarySearch(l.seqs, from)
	j, _ := slices.BinarySearch(l.seqs, to+1)
	return j - i
}

// ErrLost is Wait's error for frames that were dropped.
var ErrLost = errors.New("dropped before delivery")

// Wait returns once every frame with a sequence number up to to has been
// written or dropped: nil if none of those from from to to (the caller's
// own, as Enqueue numbered them) was dropped, else an error wrapping
// ErrLost. It is how a relay acknowledges a record only once the
// destination has it. If ctx ends first, its error says so.
func (s *Spool) Wait(ctx context.Context, from, to uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters++
	defer func() { s.waiters-- }()
	if s.minPending() <= to {
		select { // cut the writer's nap short: a sender waits
		case s.wake <- struct{}{}:
		default:
		}
	}
	if err := s.await(ctx, func() bool { return s.minPending() > to }); err != nil {
		return fmt.Errorf("records %d to %d not yet delivered: %w", from, to, err)
	}
	switch n := s.lost.any(from, to); {
	case n < 0:
		return fmt.Errorf("records %d to %d: some may have been %w", from, to, ErrLost)
	case n > 0:
		return fmt.Errorf("%d of records %d to %d %w", n, from, to, ErrLost)
	}
	return nil
}

// awaited reports whether a Wait waits for frames still queued: the
// writer then goes on at once, rather than let a batch gather while a
// sender waits for its acknowledgment.
func (s *Spool) awaited() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiters > 0 && s.nonEmpty != 0
}

// nap waits for gather, or until wake rings (a Wait).
func nap(t *time.Timer, wake <-chan struct{}) {
	t.Reset(gather)
	select {
	case <-t.C:
	case <-wake:
		t.Stop()
	}
}

// minPending returns the lowest sequence number of a frame queued or
// being written, or MaxUint64 if there is none. mu is held.
func (s *Spool) minPending() uint64 {
	m := uint64(math.MaxUint64)
	if len(s.inFlight) > 0 {
		m = s.inFlight[0]
	}
	for k := s.nonEmpty; k != 0; k &= k - 1 {
		m = min(m, s.fifos[bits.TrailingZeros8(k)].first())
	}
	return m
}
