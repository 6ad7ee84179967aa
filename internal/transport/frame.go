// Package transport carries encoded records over the network: the framing
// shared by senders and the receiver, the reconnect policy (Backoff), and
// Link, the one reconnecting connection every handler writes through.
package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// PrefixLen is the size of a frame's length prefix: Python's
// struct.pack(">L", len(payload)).
const PrefixLen = 4

// ErrFrameTooLarge reports a frame longer than the limit in force.
var ErrFrameTooLarge = errors.New("frame too large")

// ErrTruncated reports a frame that ended before its announced length.
var ErrTruncated = errors.New("truncated frame")

// ErrBadFrame reports framing that is neither of the forms expected.
var ErrBadFrame = errors.New("bad framing")

// BeginFrame reserves the length prefix of a frame that starts at len(b).
func BeginFrame(b []byte) []byte { return append(b, 0, 0, 0, 0) }

// EndFrame writes the length prefix of the frame that starts at b[start].
func EndFrame(b []byte, start int) {
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-PrefixLen))
}

// BufReader is r if it is a *bufio.Reader, whatever its size, else a
// 64 KiB bufio.Reader over r: a frame reader over a caller's
// bufio.Reader then buffers nothing the caller cannot see in
// r.Buffered() (a receiver tells from it whether to wait for more).
func BufReader(r io.Reader) *bufio.Reader {
	if br, ok := r.(*bufio.Reader); ok {
		return br
	}
	return bufio.NewReaderSize(r, 64<<10)
}

// FrameReader reads length-prefixed frames from a stream into one buffer
// that it reuses (set Buffer.A to take it from an Allocator).
type FrameReader struct {
	Buffer
	r      io.Reader
	max    int
	prefix [PrefixLen]byte // here, not on Next's stack: passed to r.Read, it would escape, an allocation per frame
}

// NewFrameReader reads frames of at most max payload bytes from r.
func NewFrameReader(r io.Reader, max int) *FrameReader {
	return &FrameReader{r: r, max: max}
}

// Next returns the next frame's payload, valid until the following call.
// It returns io.EOF at a clean end between frames, an error wrapping
// ErrTruncated if the stream ends inside a frame, and one wrapping
// ErrFrameTooLarge — before reading or allocating anything more — if the
// prefix announces more than the limit.
func (f *FrameReader) Next() ([]byte, error) {
	prefix := f.prefix[:]
	if n, err := io.ReadFull(f.r, prefix); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, truncated(err, n, PrefixLen)
	}
	size := binary.BigEndian.Uint32(prefix)
	if uint64(size) > uint64(f.max) {
		return nil, fmt.Errorf("%w: length prefix %d is over the limit of %d bytes", ErrFrameTooLarge, size, f.max)
	}
	p, err := f.Get(int(size))
	if err != nil {
		return nil, err
	}
	if n, err := io.ReadFull(f.r, p); err != nil {
		return nil, truncated(err, n, int(size))
	}
	return p, nil
}

func truncated(err error, got, want int) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, got, want)
	}
	return err
}

// SplitDatagram returns the payload of a datagram that holds one frame,
// prefix included, as Python's DatagramHandler sends it. The prefix must
// agree with the datagram's length.
func SplitDatagram(d []byte) ([]byte, error) {
	if len(d) < PrefixLen {
		return nil, fmt.Errorf("%w: datagram of %d bytes has no length prefix", ErrTruncated, len(d))
	}
	size := binary.BigEndian.Uint32(d)
	if uint64(size) != uint64(len(d)-PrefixLen) {
		return nil, fmt.Errorf("length prefix %d disagrees with datagram payload of %d bytes", size, len(d)-PrefixLen)
	}
	return d[PrefixLen:], nil
}
