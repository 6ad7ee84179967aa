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
}

// segPool keeps a few emptied segments for reuse.
type segPool struct{ free []*segment }

func (p *segPool) get(n int) *segment {
	if n <= segSize && len(p.free) > 0 {
		s := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		return s
	}
	return &segment{buf: make([]byte, 0, max(n, segSize))}
}

func (p *segPool) put(s *segment) {
	if cap(s.buf) == segSize && len(p.free) < 4 {
		s.buf, s.lens, s.seqs = s.buf[:0], s.lens[:0], s.seqs[:0]
		p.free = append(p.free, s)
	}
}

// fifo holds frames first in, first out, each with the sequence number
// that orders it among the spool's other fifos, in a list of segments.
// A fifo holds its frames' bytes and at most one segment's slack.
type fifo struct {
	segs  []*segment // oldest first; emptied segments leave at once
	start int        // segs[0].buf[start:] and segs[0].lens[head:] are queued
	head  int
	n     int // frames queued
}

func (f *fifo) empty() bool { return f.n == 0 }

// first is the sequence number of the oldest frame; f must not be empty.
func (f *fifo) first() uint64 { return f.segs[0].seqs[f.head] }

func (f *fifo) push(p *segPool, seq uint64, frame []byte) {
	var s *segment
	if k := len(f.segs); k > 0 && cap(f.segs[k-1].buf)-len(f.segs[k-1].buf) >= len(frame) {
		s = f.segs[k-1]
	} else {
		s = p.get(len(frame))
		f.segs = append(f.segs, s)
	}
	s.buf = append(s.buf, frame...)
	s.lens = append(s.lens, len(frame))
	s.seqs = append(s.seqs, seq)
	f.n++
}

// advance consumes the oldest frame, of n bytes; a segment it empties
// goes back to p.
func (f *fifo) advance(p *segPool, n int) {
	f.start += n
	f.head++
	f.n--
	if s := f.segs[0]; f.head == len(s.lens) {
		f.segs[0] = nil
		f.segs = f.segs[1:]
		f.start, f.head = 0, 0
		p.put(s)
	}
}

// drop removes the oldest frame and returns its length.
func (f *fifo) drop(p *segPool) int {
	n := f.segs[0].lens[f.head]
	f.advance(p, n)
	return n
}

// popRun copies the oldest frames to the end of bt, while their sequence
// numbers stay below limit and the batch within max bytes (its first
// frame always moves). It reports whether the batch is full.
func (f *fifo) popRun(p *segPool, bt *batch, limit uint64, max int) (full bool) {
	for !f.empty() && f.first() < limit {
		s := f.segs[0]
		n := s.lens[f.head]
		if len(bt.ends) > 0 && len(bt.buf)+n > max {
			return true
		}
		bt.buf = append(bt.buf, s.buf[f.start:f.start+n]...)
		bt.ends = append(bt.ends, len(bt.buf))
		bt.seqs = append(bt.seqs, s.seqs[f.head])
		f.advance(p, n)
	}
	return false
}

// takeFirst moves the oldest segment's frames to the empty batch bt
// without copying them: bt owns the segment until they are written.
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
