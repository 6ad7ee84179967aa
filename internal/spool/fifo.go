package spool

// segSize is the capacity of a segment: a frame larger than it gets a
// segment of its own.
const segSize = 256 << 10

// segment holds frames back to back, with their lengths and sequence
// numbers. Its buffer never grows past its capacity, so that queueing a
// frame never copies the frames already queued: a caller is not made to
// wait while a growing queue moves itself.
type segment struct {
	buf  []byte
	lens []int
	seqs []uint64
	// A durable segment's frames are in file's mapping, buf, each after
	// a header: offs are where they start.
	offs []int
	file *segFile
	sev  int // a recovered file's
}

// segPool keeps a few emptied segments for reuse, and retires the
// durable ones.
type segPool struct {
	free []*segment
	disk *disk // nil for a memory-only Spool
}

func (p *segPool) get(n int) *segment {
	if n <= segSize && len(p.free) > 0 {
		s := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		return s
	}
	return &segment{buf: make([]byte, 0, max(n, segSize))}
}

func (p *segPool) put(s *segment) {
	if s.file != nil {
		p.disk.retire(s.file)
		return
	}
	if cap(s.buf) == segSize && len(p.free) < 4 {
		s.buf, s.lens, s.seqs = s.buf[:0], s.lens[:0], s.seqs[:0]
		p.free = append(p.free, s)
	}
}

// fifo holds frames first in, first out, each with the sequence number
// that orders it among the spool's other fifos, in a list of segments.
// A fifo holds its frames' bytes and at most one segment's slack.
type fifo struct {
	segs  []*segment // oldest first; emptied segments leave at once, but a file's with room to take more
	start int        // segs[0].buf[start:] and segs[0].lens[head:] are queued
	head  int
	n     int // frames queued
}

func (f *fifo) empty() bool { return f.n == 0 }

// first is the sequence number of the oldest frame; f must not be empty.
func (f *fifo) first() uint64 { return f.segs[0].seqs[f.head] }

func (f *fifo) push(p *segPool, seq uint64, frame []byte) {
	var s *segment
	if k := len(f.segs); k > 0 && f.segs[k-1].file == nil && cap(f.segs[k-1].buf)-len(f.segs[k-1].buf) >= len(frame) {
		s = f.segs[k-1]
	} else {
		s = p.get(len(frame))
		f.grow(p, s)
	}
	s.buf = append(s.buf, frame...)
	s.lens = append(s.lens, len(frame))
	s.seqs = append(s.seqs, seq)
	f.n++
}

// grow appends the new segment s, after dropping a file's segment that
// was kept for what came next but has nothing queued.
func (f *fifo) grow(p *segPool, s *segment) {
	if f.n == 0 && len(f.segs) == 1 {
		f.pop(p)
	}
	f.segs = append(f.segs, s)
}

// advance consumes the oldest frame, of n bytes; a segment it empties
// goes back to p, unless it is a file's with room for more: making and
// mapping a file for each batch would cost more than the batch. But
// once a file could not be made, an emptied one goes, to free its space.
func (f *fifo) advance(p *segPool, n int) {
	f.start += n
	f.head++
	f.n--
	if s := f.segs[0]; f.head == len(s.lens) && (s.file == nil || len(f.segs) > 1 || cap(s.buf)-len(s.buf) <= frameHdr || p.disk.full) {
		f.pop(p)
	}
}

// releaseKept gives up f's file segment kept, emptied, for more frames,
// if that is all f holds: after a file could not be made, its space may
// be what the next one needs.
func (f *fifo) releaseKept(p *segPool) {
	if f.n == 0 && len(f.segs) == 1 && f.segs[0].file != nil {
		f.pop(p)
	}
}

// pop removes the oldest segment, emptied, and gives it back to p.
func (f *fifo) pop(p *segPool) {
	s := f.segs[0]
	f.segs[0] = nil
	f.segs = f.segs[1:]
	f.start, f.head = 0, 0
	p.put(s)
}

// oldest returns the oldest frame and where its mark is.
func (f *fifo) oldest() ([]byte, mark) {
	s := f.segs[0]
	n := s.lens[f.head]
	if s.file == nil {
		return s.buf[f.start : f.start+n], mark{}
	}
	at := s.offs[f.head]
	return s.buf[at : at+n], mark{f: s.file, at: at}
}

// drop removes the oldest frame and returns its length.
func (f *fifo) drop(p *segPool) int {
	frame, m := f.oldest()
	if m.f != nil {
		p.disk.done(m.f, m.at)
	}
	f.advance(p, len(frame))
	return len(frame)
}

// popRun moves the oldest frames to the end of bt, while their sequence
// numbers stay below limit and the batch within max bytes (its first
// frame always moves). It reports whether the batch is full.
func (f *fifo) popRun(p *segPool, bt *batch, sev int, limit uint64, max int) (full bool) {
	for !f.empty() && f.first() < limit {
		frame, m := f.oldest()
		end := len(frame)
		if k := len(bt.ends); k > 0 {
			if end += bt.ends[k-1]; end > max {
				return true
			}
		}
		if m.f != nil && len(bt.buf) == 0 {
			bt.parts = append(bt.parts, frame)
		} else {
			bt.flatten() // a segment in memory may be reused once the lock is released
			bt.buf = append(bt.buf, frame...)
		}
		bt.ends = append(bt.ends, end)
		bt.seqs = append(bt.seqs, f.first())
		if p.disk != nil {
			m.sev = sev
			bt.marks = append(bt.marks, m)
		}
		f.advance(p, len(frame))
	}
	return false
}

// takeFirst moves the oldest segment's frames to the empty batch bt
// without copying them: bt owns the segment until they are written. The
// segment must be in memory.
func (f *fifo) takeFirst(bt *batch) {
	s := f.segs[0]
	bt.seg = s
	bt.buf, bt.lens, bt.seqs = s.buf[f.start:], s.lens[f.head:], s.seqs[f.head:]
	f.n -= len(bt.lens)
	f.segs[0] = nil
	f.segs = f.segs[1:]
	f.start, f.head = 0, 0
}

// countBefore counts the queued frames with sequence numbers below target.
func (f *fifo) countBefore(target uint64) int {
	n := 0
	for i, s := range f.segs {
		seqs := s.seqs
		if i == 0 {
			seqs = seqs[f.head:]
		}
		for _, q := range seqs {
			if q >= target {
				return n
			}
			n++
		}
	}
	return n
}

// flatten copies the frames of bt.parts to the end of bt.buf.
func (bt *batch) flatten() {
	for _, p := range bt.parts {
		bt.buf = append(bt.buf, p...)
	}
	clear(bt.parts)
	bt.parts = bt.parts[:0]
}
