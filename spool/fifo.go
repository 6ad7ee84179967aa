package spool

// fifo holds frames first in, first out, each with the sequence number
// that orders it among the spool's other fifos. Frames sit back to back in
// one byte slice; popping advances start, and the space before start is
// reclaimed by sliding the rest down once it is more than half the slice,
// so a fifo holds at most about twice its frames' bytes.
type fifo struct {
	buf   []byte
	start int      // buf[start:] are the queued frames
	lens  []int    // their lengths; lens[head:] are queued
	seqs  []uint64 // their sequence numbers
	head  int
}

func (f *fifo) empty() bool { return f.head == len(f.lens) }

func (f *fifo) len() int { return len(f.lens) - f.head }

// first is the sequence number of the oldest frame; f must not be empty.
func (f *fifo) first() uint64 { return f.seqs[f.head] }

func (f *fifo) push(seq uint64, frame []byte) {
	f.buf = append(f.buf, frame...)
	f.lens = append(f.lens, len(frame))
	f.seqs = append(f.seqs, seq)
}

// drop removes the oldest frame and returns its length.
func (f *fifo) drop() int {
	n := f.lens[f.head]
	f.start += n
	f.head++
	f.reclaim()
	return n
}

// popRun moves the oldest frames to the end of bt, while their sequence
// numbers stay below limit and the batch within max bytes (its first
// frame always moves). It reports whether the batch is full.
func (f *fifo) popRun(bt *batch, limit uint64, max int) (full bool) {
	from, size := f.start, len(bt.buf)
	for f.head < len(f.lens) && f.seqs[f.head] < limit {
		n := f.lens[f.head]
		if len(bt.ends) > 0 && size+n > max {
			full = true
			break
		}
		size += n
		bt.ends = append(bt.ends, size)
		bt.seqs = append(bt.seqs, f.seqs[f.head])
		f.start += n
		f.head++
	}
	bt.buf = append(bt.buf, f.buf[from:f.start]...)
	f.reclaim()
	return full
}

// takeAll moves every queued frame to the empty batch bt by trading
// storage with it, so that the writer copies no byte while it holds the
// spool's lock; bt's old storage becomes the fifo's.
func (f *fifo) takeAll(bt *batch) {
	buf, lens, seqs := f.buf[f.start:], f.lens[f.head:], f.seqs[f.head:]
	f.buf, f.lens, f.seqs, f.start, f.head = bt.buf[:0], bt.lens[:0], bt.seqs[:0], 0, 0
	bt.buf, bt.lens, bt.seqs = buf, lens, seqs
}

// reclaim empties the slices when nothing is queued, or slides the queued
// frames down once the consumed part is the larger.
func (f *fifo) reclaim() {
	switch {
	case f.empty():
		f.buf, f.start = f.buf[:0], 0
		f.lens, f.seqs, f.head = f.lens[:0], f.seqs[:0], 0
	case f.start > len(f.buf)/2 && f.start >= 4096:
		f.buf = f.buf[:copy(f.buf, f.buf[f.start:])]
		f.start = 0
		n := copy(f.lens, f.lens[f.head:])
		copy(f.seqs, f.seqs[f.head:])
		f.lens, f.seqs, f.head = f.lens[:n], f.seqs[:n], 0
	}
}
