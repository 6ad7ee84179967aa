// Package batch gathers output into batches written with one Write each,
// and tells a caller when the batch holding its bytes is written: the
// commit point after which a receiver may acknowledge what it took in.
package batch

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Defaults of a Writer.
const (
	DefaultSize  = 256 << 10
	DefaultDelay = 10 * time.Millisecond
)

// Writer gathers what is appended to it into a batch, written to W with a
// single Write when it holds Size bytes, Delay after its first bytes came
// in, or when Commit asks for it. While one batch is being written the
// next one gathers, so appending waits only when that one is full too.
//
// Every append returns a position; Commit(ctx, pos) returns once the
// batch holding it has been written (and synced, with Sync) — never
// before. An error writing (or syncing) a batch stays: every later
// Append and Commit returns it, since the Writer cannot know how much of
// the failed batch reached W, and so nothing after it can be said to be
// written in order.
type Writer struct {
	W io.Writer
	// Sync makes a batch count as written only once W's Sync method (an
	// *os.File's fsync) has returned; a W without one fails the batch.
	Sync  bool
	Size  int           // 0 means DefaultSize
	Delay time.Duration // 0 means DefaultDelay

	mu       sync.Mutex
	buf      []byte // the batch being gathered
	spare    []byte // the buffer of the last batch written, for reuse
	end      uint64 // bytes appended, ever
	written  uint64 // bytes written (and synced), ever
	writing  bool
	done     chan struct{} // closed when the write in progress ends
	timer    *time.Timer
	timerDue bool
	err      error
}

func (w *Writer) size() int {
	if w.Size > 0 {
		return w.Size
	}
	return DefaultSize
}

func (w *Writer) delay() time.Duration {
	if w.Delay > 0 {
		return w.Delay
	}
	return DefaultDelay
}

// Append appends what add appends to the batch being gathered, and
// returns the position of its end. add runs with the Writer locked: it
// must only append. If the batch is full, Append first writes it, or
// waits for the write in progress.
func (w *Writer) Append(add func([]byte) []byte) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.err == nil && len(w.buf) >= w.size() {
		if !w.writing {
			w.writeLocked()
		} else {
			w.waitLocked(context.Background())
		}
	}
	if w.err != nil {
		return 0, w.err
	}
	n := len(w.buf)
	w.buf = add(w.buf)
	w.end += uint64(len(w.buf) - n)
	if n == 0 {
		w.armLocked()
	}
	return w.end, nil
}

// Commit returns once everything up to pos is written, writing the
// batch now if it is not being written already. It returns the Writer's
// error if that batch, or one before it, failed, and ctx's if ctx ends
// first.
func (w *Writer) Commit(ctx context.Context, pos uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.written < pos {
		switch {
		case w.err != nil:
			return w.err
		case !w.writing:
			w.writeLocked()
		default:
			if err := w.waitLocked(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush writes everything appended so far, and returns the Writer's error.
func (w *Writer) Flush() error {
	w.mu.Lock()
	end := w.end
	w.mu.Unlock()
	if err := w.Commit(context.Background(), end); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Held is the capacity of the buffers the Writer keeps.
func (w *Writer) Held() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return cap(w.buf) + cap(w.spare)
}

// waitLocked waits, unlocked, for the write in progress to end, or for
// ctx to.
func (w *Writer) waitLocked(ctx context.Context) error {
	done := w.done
	w.mu.Unlock()
	defer w.mu.Lock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("batch: waiting for the output: %w", ctx.Err())
	}
}

// writeLocked writes the batch gathered, with the Writer unlocked so that
// the next batch gathers meanwhile.
func (w *Writer) writeLocked() {
	b, end := w.buf, w.end
	w.buf, w.spare = w.spare[:0], nil
	w.writing, w.done = true, make(chan struct{})
	w.mu.Unlock()
	err := w.write(b)
	w.mu.Lock()
	w.writing = false
	close(w.done)
	if err != nil {
		w.err = err
		return
	}
	w.written = end
	if cap(b) <= 2*w.size() { // one huge record does not hold its memory for good
		w.spare = b[:0]
	}
	if len(w.buf) > 0 {
		w.armLocked()
	}
}

func (w *Writer) write(b []byte) error {
	if _, err := w.W.Write(b); err != nil {
		return fmt.Errorf("batch: writing %d bytes: %w", len(b), err)
	}
	if !w.Sync {
		return nil
	}
	s, ok := w.W.(interface{ Sync() error })
	if !ok {
		return fmt.Errorf("batch: %T cannot sync", w.W)
	}
	if err := s.Sync(); err != nil {
		return fmt.Errorf("batch: syncing: %w", err)
	}
	return nil
}

// armLocked makes sure the batch is written within Delay.
func (w *Writer) armLocked() {
	if w.timerDue {
		return
	}
	w.timerDue = true
	if w.timer == nil {
		w.timer = time.AfterFunc(w.delay(), w.due)
		return
	}
	w.timer.Reset(w.delay())
}

// due writes the batch when its Delay is up, unless a write is in
// progress (which arms the timer again when it ends).
func (w *Writer) due() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timerDue = false
	if len(w.buf) > 0 && !w.writing && w.err == nil {
		w.writeLocked()
	}
}
