package transport

// An Allocator gives the readers of frames (FrameReader, SyslogReader,
// relp.Reader) their buffers, so that a server can bound what all its
// connections hold together. Alloc returns a buffer of length n, possibly
// after waiting for memory to free up; its error is the reader's. Free
// takes back a buffer the reader no longer uses.
type Allocator interface {
	Alloc(n int) ([]byte, error)
	Free(b []byte)
}

// heap is the Allocator of a reader given none: make, and the collector.
type heap struct{}

func (heap) Alloc(n int) ([]byte, error) { return make([]byte, n), nil }
func (heap) Free([]byte)                 {}

// Buffer is a reader's reusable buffer, taken from an Allocator.
type Buffer struct {
	A   Allocator // nil means make
	buf []byte
}

func (b *Buffer) alloc() Allocator {
	if b.A == nil {
		return heap{}
	}
	return b.A
}

// Get returns the buffer resized to n, reallocated if its capacity is less.
func (b *Buffer) Get(n int) ([]byte, error) {
	if cap(b.buf) < n {
		b.Release()
		p, err := b.alloc().Alloc(n)
		if err != nil {
			return nil, err
		}
		b.buf = p
	}
	return b.buf[:n], nil
}

// Append returns p (a prefix of the buffer) with q appended, reallocating
// the buffer through the Allocator when it is full: to twice its capacity,
// at least 64 bytes and what p and q need, at most limit bytes (the caller
// keeps len(p)+len(q) within it).
func (b *Buffer) Append(p, q []byte, limit int) ([]byte, error) {
	if need := len(p) + len(q); need > cap(b.buf) {
		old := b.buf
		n, err := b.alloc().Alloc(min(limit, max(64, 2*cap(old), need)))
		if err != nil {
			return nil, err
		}
		copy(n, p)
		b.alloc().Free(old)
		b.buf, p = n, n[:len(p)]
	}
	return append(p, q...), nil
}

// Use makes the buffer come from a from now on.
func (b *Buffer) Use(a Allocator) {
	b.Release()
	b.A = a
}

// Cap is the capacity of the buffer held.
func (b *Buffer) Cap() int { return cap(b.buf) }

// Release gives the buffer back to the Allocator; the next Get allocates.
func (b *Buffer) Release() {
	if b.buf != nil {
		b.alloc().Free(b.buf)
		b.buf = nil
	}
}
