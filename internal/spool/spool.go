// Package spool delivers frames in the background: a bounded queue that
// callers add to without waiting for the network, and one writer goroutine
// that sends what is queued, in order, in as few writes as the transport
// allows, through a transport.Link.
//
// While the destination is down, frames wait in the queue and go out in
// order once the Link reconnects. When the queue is full, the Overflow
// policy decides what is given up, and every frame is accounted for:
// Enqueued + Recovered = Written + Dropped + Pending + Stored, at every
// instant. With Config.Dir the queue is kept in files (disk.go) and
// survives the process: Recovered is what an earlier one left, Stored
// what Close leaves.
package spool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
)

// Overflow is what Put does when the queue is full.
type Overflow int

// The overflow policies.
const (
	// DropLowest makes room by dropping the oldest queued frame of the
	// lowest severity, if it is no more severe than the new one; otherwise
	// the new frame is dropped. Errors outlive debug chatter.
	DropLowest Overflow = iota
	// DropNewest drops the new frame.
	DropNewest
	// DropOldest drops the oldest queued frames to make room.
	DropOldest
	// Block makes the caller wait for room, up to BlockTimeout, and then
	// drops the new frame.
	Block
)

var overflowNames = [...]string{"drop-lowest", "drop-newest", "drop-oldest", "block"}

// String returns the policy's name, as ParseOverflow and URLs take it.
func (o Overflow) String() string {
	if o >= 0 && int(o) < len(overflowNames) {
		return overflowNames[o]
	}
	return fmt.Sprintf("Overflow(%d)", int(o))
}

// ParseOverflow returns the policy named as String names it.
func ParseOverflow(name string) (Overflow, error) {
	for i, n := range overflowNames {
		if n == name {
			return Overflow(i), nil
		}
	}
	return 0, fmt.Errorf("unknown overflow policy %q (want drop-lowest, drop-newest, drop-oldest or block)", name)
}

// Defaults for a zero Config.
const (
	DefaultMaxRecords   = 1 << 18
	DefaultMaxBytes     = 64 << 20
	DefaultBlockTimeout = time.Second
	DefaultMaxBatch     = 256 << 10
	DefaultRetries      = 3

	DefaultMaxDiskBytes   = 1 << 30
	DefaultMaxDiskRecords = 1 << 22
)

// Severities are 0 (most severe) to 7, as in syslog.
const Severities = 8

// Config configures a Spool. The zero value is valid.
type Config struct {
	// MaxRecords and MaxBytes bound the frames pending, queued or being
	// written; defaults DefaultMaxRecords and DefaultMaxBytes. The queue
	// takes MaxBytes and at most a 256 KiB segment per severity more.
	MaxRecords, MaxBytes int
	// Overflow is the policy when a frame does not fit; default DropLowest.
	Overflow Overflow
	// BlockTimeout is the longest Put waits under Block; default
	// DefaultBlockTimeout.
	BlockTimeout time.Duration
	// MaxBatch bounds the bytes of one write; default DefaultMaxBatch.
	MaxBatch int
	// Backoff paces retries after a write fails on a live connection
	// (a failed connect is paced by the Link's own backoff).
	Backoff transport.Backoff
	// Retries is how many times a frame the destination refused (an
	// error wrapping transport.ErrRefused, such as a RELP error code) is
	// sent again before it is given up and counted in Dropped.Refused, so
	// that one poison message cannot hold back the frames after it;
	// default DefaultRetries, negative for none.
	Retries int
	// Dir, if set, makes the queue durable (see disk.go); MaxBytes then
	// bounds the bytes on disk, default DefaultMaxDiskBytes, and
	// MaxRecords defaults to DefaultMaxDiskRecords.
	Dir string
	// Fsync is how often new frames in Dir are flushed to stable storage:
	// 0 after every batch, > 0 at most that often, < 0 never.
	Fsync time.Duration
	// MemoryFirst, with Dir, keeps frames in memory while fewer than
	// this many bytes are queued; only the rest go to Dir.
	MemoryFirst int
	// OnError, if not nil, is told on the writer's goroutine of each
	// failed write, with the number of frames it left queued (or, for a
	// refused frame given up, 1).
	OnError func(err error, frames int)
}

// Errors Put returns; each means the frame was dropped and counted.
var (
	ErrFull    = errors.New("queue full, record dropped")
	ErrTimeout = errors.New("queue full for the whole block timeout, record dropped")
	ErrClosed  = errors.New("handler closed")
)

// Drops counts dropped frames by reason.
type Drops struct {
	Newest  uint64 // the queue was full (DropNewest, or DropLowest with nothing less severe queued)
	Oldest  uint64 // dropped to make room under DropOldest
	Lowest  uint64 // dropped to make room under DropLowest
	Timeout uint64 // the queue stayed full for BlockTimeout under Block
	Closed  uint64 // still pending when Close's deadline passed
	Refused uint64 // refused by the destination Retries+1 times
	Disk    uint64 // could not be written to Dir (disk full, not writable)
}

// Total is the sum of the counts.
func (d Drops) Total() uint64 {
	return d.Newest + d.Oldest + d.Lowest + d.Timeout + d.Closed + d.Refused + d.Disk
}

// Counts are a Spool's counters. Enqueued + Recovered = Written +
// Dropped.Total() + Pending + Stored.
type Counts struct {
	Enqueued     uint64 // frames given to Put before Close
	Refused      uint64 // frames given to Put after Close: not enqueued
	Written      uint64 // frames written whole
	Bytes        uint64 // their bytes
	Dropped      Drops
	Pending      uint64 // frames queued or being written
	PendingBytes uint64
	WriteErrors  uint64 // failed writes (each retried later)
	Recovered    uint64 // frames an earlier process left in Dir, queued first
	Corrupt      uint64 // damaged frames or regions found in Dir and skipped
	Stored       uint64 // frames left in Dir at Close
}

// Spool is a queue of frames and the goroutine that writes them. It is
// safe for concurrent use.
type Spool struct {
	cfg  Config
	link transport.Sender
	disk *disk // with Config.Dir

	mu       sync.Mutex
	fifos    [Severities]fifo // queued frames by severity; seq orders them
	nonEmpty uint8            // bit k set: fifos[k] has frames
	pool     segPool
	seq      uint64   // the next frame's sequence number
	inFlight []uint64 // sequence numbers of the batch being written, not yet written
	counts   Counts
	idle     bool          // the writer waits for wake
	closing  bool          // Close was called
	changed  chan struct{} // closed when room is made or frames resolve, if watched
	watched  bool
	lost     lostSeqs // frames dropped after they were queued, for Wait
	waiters  int      // Waits under way

	bt    batch         // the writer's; Close's once the writer is done
	wake  chan struct{} // the writer's doorbell
	abort context.CancelFunc
	done  chan struct{} // closed when the writer has returned
}

// New returns a Spool writing to link and starts its writer.
func New(link transport.Sender, cfg Config) (*Spool, error) {
	if cfg.Dir != "" && cfg.MaxRecords == 0 {
		cfg.MaxRecords = DefaultMaxDiskRecords
	}
	if cfg.Dir != "" && cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxDiskBytes
	}
	if cfg.MaxRecords == 0 {
		cfg.MaxRecords = DefaultMaxRecords
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.BlockTimeout == 0 {
		cfg.BlockTimeout = DefaultBlockTimeout
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	cfg.Retries = max(cfg.Retries, 0)
	b, err := cfg.Backoff.Normalize()
	if err != nil {
		return nil, err
	}
	cfg.Backoff = b
	switch {
	case cfg.MaxRecords < 0 || cfg.MaxBytes < 0 || cfg.MaxBatch < 0:
		return nil, fmt.Errorf("negative queue bound (records %d, bytes %d, batch %d)", cfg.MaxRecords, cfg.MaxBytes, cfg.MaxBatch)
	case cfg.BlockTimeout < 0:
		return nil, fmt.Errorf("negative block timeout %v", cfg.BlockTimeout)
	case cfg.Overflow < DropLowest || cfg.Overflow > Block:
		return nil, fmt.Errorf("unknown overflow policy %v", cfg.Overflow)
	case cfg.MemoryFirst < 0:
		return nil, fmt.Errorf("negative memory-first bound %d", cfg.MemoryFirst)
	}
	ctx, abort := context.WithCancel(context.Background())
	s := &Spool{cfg: cfg, link: link, wake: make(chan struct{}, 1), abort: abort, done: make(chan struct{})}
	if cfg.Dir != "" {
		if err := s.openDisk(); err != nil {
			abort()
			return nil, err
		}
	}
	go s.run(ctx)
	return s, nil
}

// openDisk reads back what an earlier process left in Config.Dir: it is
// queued before anything Enqueue adds.
func (s *Spool) openDisk() error {
	d, recovered, corrupt, next, err := openDisk(s.cfg, &s.fifos)
	if err != nil {
		return err
	}
	d.mu = &s.mu
	s.disk, s.pool.disk, s.seq = d, d, next
	go d.run()
	s.counts.Recovered, s.counts.Corrupt = uint64(recovered), uint64(corrupt)
	s.counts.Pending = uint64(recovered)
	for k := range s.fifos {
		if !s.fifos[k].empty() {
			s.nonEmpty |= 1 << k
		}
		for _, g := range s.fifos[k].segs {
			for _, n := range g.lens {
				s.counts.PendingBytes += uint64(n)
			}
		}
	}
	return nil
}

// Put queues a copy of frame, of severity sev (0 most severe … 7). It
// does not wait for the network; under Block it may wait for room, up to
// BlockTimeout or ctx's end. An error means the frame was dropped (ErrFull,
// ErrTimeout, or ErrClosed while it waited for room) or the Spool was
// already closed (ErrClosed, counted as Refused).
func (s *Spool) Put(ctx context.Context, frame []byte, sev int) error {
	_, err := s.Enqueue(ctx, frame, sev, BlockTimeout)
	return err
}

// Room is how long Enqueue waits for room under the Block policy.
type Room int

// How Enqueue waits for room.
const (
	BlockTimeout Room = iota // up to Config.BlockTimeout, as Put does
	BlockCtx                 // until ctx ends or the Spool closes: back-pressure
	NoWait                   // not at all: a frame that does not fit is dropped (Dropped.Newest)
)

// Enqueue is Put that returns the frame's sequence number, for Wait, and
// waits for room under Block as room says. Sequence numbers grow by one
// with each frame queued.
func (s *Spool) Enqueue(ctx context.Context, frame []byte, sev int, room Room) (uint64, error) {
	sev = min(max(sev, 0), Severities-1)
	s.mu.Lock()
	if s.closing {
		s.counts.Refused++
		s.mu.Unlock()
		return 0, ErrClosed
	}
	s.counts.Enqueued++
	if !s.fits(len(frame)) {
		err := s.makeRoom(ctx, len(frame), sev, room)
		if err == nil && s.closing { // closed while it waited for room
			s.counts.Dropped.Closed++
			err = ErrClosed
		}
		if err != nil {
			s.mu.Unlock()
			return 0, err
		}
	}
	seq := s.seq
	if s.disk != nil && s.counts.PendingBytes >= uint64(s.cfg.MemoryFirst) {
		if err := s.disk.push(&s.pool, &s.fifos[sev], seq, frame, sev); err != nil {
			s.counts.Dropped.Disk++
			for k := range s.fifos {
				s.fifos[k].releaseKept(&s.pool)
			}
			s.mu.Unlock()
			return 0, err
		}
	} else {
		s.fifos[sev].push(&s.pool, seq, frame)
	}
	s.seq++
	s.nonEmpty |= 1 << sev
	s.counts.Pending++
	s.counts.PendingBytes += uint64(len(frame))
	ring := s.idle
	s.idle = false
	s.mu.Unlock()
	if ring {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return seq, nil
}

func (s *Spool) fits(n int) bool {
	return s.counts.Pending < uint64(s.cfg.MaxRecords) && s.counts.PendingBytes+uint64(n) <= uint64(s.cfg.MaxBytes)
}

// makeRoom applies the overflow policy until a frame of n bytes and
// severity sev fits, or returns the error that drops it. mu is held (and
// released while blocking).
func (s *Spool) makeRoom(ctx context.Context, n, sev int, room Room) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for !s.fits(n) {
		switch s.cfg.Overflow {
		case DropOldest:
			if s.nonEmpty == 0 {
				break // only the batch in flight is left: nothing to give up for it
			}
			s.dropFrom(s.oldest(), &s.counts.Dropped.Oldest)
			continue
		case DropLowest:
			if k := 7 - bits.LeadingZeros8(s.nonEmpty); s.nonEmpty != 0 && k >= sev {
				s.dropFrom(k, &s.counts.Dropped.Lowest)
				continue
			}
		case Block:
			if s.closing {
				s.counts.Dropped.Closed++
				return ErrClosed
			}
			if n > s.cfg.MaxBytes || room == NoWait {
				break // it would wait for nothing, or may not wait
			}
			var expired <-chan time.Time // nil under BlockCtx: only ctx ends the wait
			if room == BlockTimeout {
				if timer == nil {
					timer = time.NewTimer(s.cfg.BlockTimeout)
				}
				expired = timer.C
			}
			ch := s.watch()
			s.mu.Unlock()
			select {
			case <-ch:
				s.mu.Lock()
				continue
			case <-expired:
			case <-ctx.Done():
			}
			s.mu.Lock()
			if s.fits(n) {
				return nil
			}
			s.counts.Dropped.Timeout++
			return ErrTimeout
		}
		s.counts.Dropped.Newest++
		return ErrFull
	}
	return nil
}

// dropFrom drops the oldest frame of fifos[k], counting it in c.
func (s *Spool) dropFrom(k int, c *uint64) {
	s.lost.add(s.fifos[k].first())
	n := s.fifos[k].drop(&s.pool)
	if s.fifos[k].empty() {
		s.nonEmpty &^= 1 << k
	}
	*c++
	s.counts.Pending--
	s.counts.PendingBytes -= uint64(n)
	s.notify()
}

// oldest returns the fifo whose first frame is the oldest queued; at
// least one fifo has frames.
func (s *Spool) oldest() int {
	best, seq := -1, uint64(math.MaxUint64)
	for m := s.nonEmpty; m != 0; m &= m - 1 {
		k := bits.TrailingZeros8(m)
		if f := s.fifos[k].first(); f < seq {
			best, seq = k, f
		}
	}
	return best
}

// watch returns a channel closed at the next notify. mu is held.
func (s *Spool) watch() chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	s.watched = true
	return s.changed
}

// notify wakes the watchers: room was made or frames were resolved. mu
// is held.
func (s *Spool) notify() {
	if s.watched {
		close(s.changed)
		s.changed, s.watched = nil, false
	}
}

// batch is the writer's frames in flight: buf holds them back to back,
// ending at ends, with sequence numbers seqs.
type batch struct {
	buf  []byte
	ends []int
	seqs []uint64
	lens []int    // with takeFirst: the frames' lengths
	seg  *segment // with takeFirst: where they are, back to the pool once written
	sev  int      // with takeFirst: their severity
	// marks, with a durable Spool and unless the batch was taken whole
	// from a segment in memory, are where the frames are in Dir.
	marks []mark
	// parts are frames in files, to copy to buf once the Spool's lock is
	// released: they cannot move or go while they are in flight.
	parts [][]byte
	own   []byte // the batch's own buffer, for frames merged from several fifos
}

// After writing less than smallBatch bytes, the writer sleeps for gather
// before it looks at the queue again: it keeps up easily, and a writer
// that went idle after every record would make each caller pay to wake it
// (a futex call, more than the rest of Handle), and would spend a system
// call per record. Delivery waits up to gather longer; Handle never does.
const (
	smallBatch = 16 << 10
	gather     = 50 * time.Microsecond
)

// run is the writer: it takes a batch, writes it, and on a failure keeps
// the frames not written and tries them again after a pause, until Close.
func (s *Spool) run(ctx context.Context) {
	defer close(s.done)
	bt := &s.bt
	napper := time.NewTimer(time.Hour)
	defer napper.Stop()
	fails, refusals := 0, 0 // refusals: of bt's first frame
	for {
		if len(bt.ends) == 0 && !s.next(ctx, bt) {
			return
		}
		small := len(bt.buf) < smallBatch
		n, err := s.link.WriteFrames(ctx, bt.buf, bt.ends)
		s.written(bt, n, false)
		if n > 0 {
			refusals = 0
		}
		if err == nil {
			fails = 0
			if small && !s.awaited() {
				nap(napper, s.wake) // let a batch gather: callers need not wake an idle writer
			}
			continue
		}
		fails++
		s.mu.Lock()
		s.counts.WriteErrors++
		s.mu.Unlock()
		if s.cfg.OnError != nil {
			s.cfg.OnError(err, len(bt.ends))
		}
		if errors.Is(err, transport.ErrStalled) {
			continue // the write waited out the timeout; the peer is there
		}
		if rf := (*transport.Refusal)(nil); errors.As(err, &rf) && len(bt.ends) > rf.After {
			s.delivered(bt, 1, rf.After) // delivered after the refused one
			if refusals++; refusals > s.cfg.Retries {
				if s.cfg.OnError != nil {
					s.cfg.OnError(fmt.Errorf("given up after %d tries: %w", refusals, err), 1)
				}
				s.written(bt, 1, true) // given up: the frames after it flow
				refusals, fails = 0, 0
				continue
			}
		}
		if !s.pause(ctx, fails) {
			return
		}
	}
}

// next waits for queued frames and moves a batch of them, oldest first,
// into bt. It returns false when the Spool is closing and nothing is
// queued, or when ctx ends.
func (s *Spool) next(ctx context.Context, bt *batch) bool {
	s.mu.Lock()
	for s.nonEmpty == 0 {
		if s.closing {
			s.mu.Unlock()
			return false
		}
		s.idle = true
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-ctx.Done():
			return false
		}
		s.mu.Lock()
	}
	bt.ends, bt.marks = bt.ends[:0], bt.marks[:0]
	if k := bits.TrailingZeros8(s.nonEmpty); s.nonEmpty == 1<<k && s.fifos[k].segs[0].file == nil { // one severity in memory: the usual case
		s.fifos[k].takeFirst(bt)
		bt.sev = k
		if s.fifos[k].empty() {
			s.nonEmpty = 0
		}
		s.inFlight = bt.seqs
		s.mu.Unlock()
		end := 0
		for _, n := range bt.lens {
			end += n
			bt.ends = append(bt.ends, end)
		}
		return true
	}
	bt.buf, bt.seqs = bt.own[:0], nil
	for full := false; s.nonEmpty != 0 && !full; {
		k := s.oldest()
		limit := uint64(math.MaxUint64)
		for m := s.nonEmpty &^ (1 << k); m != 0; m &= m - 1 {
			limit = min(limit, s.fifos[bits.TrailingZeros8(m)].first())
		}
		full = s.fifos[k].popRun(&s.pool, bt, k, limit, s.cfg.MaxBatch)
		if s.fifos[k].empty() {
			s.nonEmpty &^= 1 << k
		}
	}
	s.inFlight = bt.seqs
	s.mu.Unlock()
	bt.flatten()
	bt.own = bt.buf
	return true
}

// written accounts for the first n frames of bt, written whole (or, if
// refused, given up after the destination refused them), and removes
// them from it.
func (s *Spool) written(bt *batch, n int, refused bool) {
	if n == 0 {
		return
	}
	size := bt.ends[n-1]
	s.mu.Lock()
	if len(bt.marks) > 0 {
		s.disk.resolve(bt.marks[:n])
		bt.marks = bt.marks[:copy(bt.marks, bt.marks[n:])]
	}
	if refused {
		s.counts.Dropped.Refused += uint64(n)
		for _, q := range bt.seqs[:n] {
			s.lost.add(q)
		}
	} else {
		s.counts.Written += uint64(n)
		s.counts.Bytes += uint64(size)
	}
	s.counts.Pending -= uint64(n)
	s.counts.PendingBytes -= uint64(size)
	bt.buf = bt.buf[:copy(bt.buf, bt.buf[size:])]
	m := copy(bt.ends, bt.ends[n:])
	for i := range m {
		bt.ends[i] -= size
	}
	bt.ends = bt.ends[:m]
	bt.seqs = bt.seqs[:copy(bt.seqs, bt.seqs[n:])]
	if len(bt.ends) == 0 && bt.seg != nil {
		s.pool.put(bt.seg)
		bt.seg = nil
	}
	s.inFlight = bt.seqs
	s.notify()
	s.mu.Unlock()
}

// delivered accounts for n frames of bt from its frame i on, written
// whole, and removes them from it: frames the destination took after it
// refused frame i-1.
func (s *Spool) delivered(bt *batch, i, n int) {
	if n == 0 {
		return
	}
	from, to := bt.ends[i-1], bt.ends[i+n-1]
	s.mu.Lock()
	if len(bt.marks) > 0 {
		s.disk.resolve(bt.marks[i : i+n])
		bt.marks = bt.marks[:i+copy(bt.marks[i:], bt.marks[i+n:])]
	}
	s.counts.Written += uint64(n)
	s.counts.Bytes += uint64(to - from)
	s.counts.Pending -= uint64(n)
	s.counts.PendingBytes -= uint64(to - from)
	bt.buf = bt.buf[:from+copy(bt.buf[from:], bt.buf[to:])]
	m := i + copy(bt.ends[i:], bt.ends[i+n:])
	for k := i; k < m; k++ {
		bt.ends[k] -= to - from
	}
	bt.ends = bt.ends[:m]
	bt.seqs = bt.seqs[:i+copy(bt.seqs[i:], bt.seqs[i+n:])]
	s.inFlight = bt.seqs
	s.notify()
	s.mu.Unlock()
}

// pause waits before the next attempt after fails failed writes in a row:
// until the Link's next connect, or a backoff delay if it is connected. It
// returns false if ctx ends first.
func (s *Spool) pause(ctx context.Context, fails int) bool {
	d := time.Until(s.link.RetryAt())
	if d <= 0 {
		d = s.cfg.Backoff.Delay(fails)
	}
	return transport.Sleep(ctx, d)
}

// Counts returns the counters.
func (s *Spool) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Flush waits until every frame Put before it was called has been written
// or dropped. If ctx ends first, it returns an error that says how many of
// them are still pending.
func (s *Spool) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.seq
	if err := s.await(ctx, func() bool { return s.pendingBefore(target) == 0 }); err != nil {
		return fmt.Errorf("%d records not yet delivered: %w", s.pendingBefore(target), err)
	}
	return nil
}

// await returns once done holds, looking again whenever frames resolve,
// or ctx's error if it ends first. mu is held (and released while it
// waits).
func (s *Spool) await(ctx context.Context, done func() bool) error {
	for !done() {
		ch := s.watch()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			return ctx.Err()
		}
		s.mu.Lock()
	}
	return nil
}

// pendingBefore counts the pending frames with sequence numbers below
// target. mu is held.
func (s *Spool) pendingBefore(target uint64) int {
	n := 0
	for _, q := range s.inFlight {
		if q < target {
			n++
		}
	}
	for m := s.nonEmpty; m != 0; m &= m - 1 {
		n += s.fifos[bits.TrailingZeros8(m)].countBefore(target)
	}
	return n
}

// Close stops taking frames, delivers what is pending until ctx ends,
// then stops the writer, closes the Link, and returns an error saying how
// many frames were dropped undelivered (counted as Dropped.Closed). No
// goroutine of the Spool outlives Close.
func (s *Spool) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closing, s.idle = true, false
	s.notify()
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		s.abort()
		<-s.done
	}
	s.abort()
	s.mu.Lock()
	lost := s.counts.Pending
	s.lost.closedFrom = min(s.minPending(), s.seq)
	s.lost.closed = true
	if s.disk != nil { // left in Dir for the next process
		s.disk.save(&s.pool, &s.bt, &s.fifos)
		s.counts.Stored = s.disk.frames
		lost -= s.disk.frames
	}
	s.counts.Dropped.Closed += lost
	s.counts.Pending, s.counts.PendingBytes = 0, 0
	s.fifos, s.nonEmpty, s.inFlight = [Severities]fifo{}, 0, nil
	s.notify()
	s.mu.Unlock()
	err := s.link.Close()
	if s.disk != nil {
		err = errors.Join(err, s.disk.close())
	}
	if lost > 0 {
		return fmt.Errorf("%d records not delivered: %w", lost, context.Cause(ctx))
	}
	return err
}
