package transport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// Framing is how syslog messages are delimited on a stream (RFC 6587).
type Framing string

// The framings.
const (
	OctetCounting Framing = "octet-counting" // "LEN SP MSG" (RFC 5425, RFC 6587 §3.4.1); the default
	LF            Framing = "lf"             // MSG LF (RFC 6587 §3.4.2)
	NUL           Framing = "nul"            // MSG NUL
)

// ParseFraming checks a framing name; "" means OctetCounting.
func ParseFraming(s string) (Framing, error) {
	switch f := Framing(s); f {
	case "", "octet", OctetCounting:
		return OctetCounting, nil
	case LF, NUL:
		return f, nil
	}
	return "", fmt.Errorf("unknown syslog framing %q (want octet-counting, lf or nul)", s)
}

// OctetReserve is the room a message needs in front of it for its octet
// count: ten digits and a space.
const OctetReserve = 11

// Frame frames the message b[start:] for f. For OctetCounting, b[start-
// OctetReserve:start] must be free; the frame then begins inside it. For
// a trailer, LF and NUL inside the message become "#012" and "#000",
// rsyslog's own escapes, whichever the trailer: many receivers end a frame
// at either, and one record must stay one frame (scratch holds the copy;
// it is returned for reuse).
func Frame(f Framing, b []byte, start int, scratch []byte) (frame, scratchOut []byte) {
	msg := b[start:]
	switch f {
	case LF, NUL:
		t := byte('\n')
		if f == NUL {
			t = 0
		}
		if bytes.IndexByte(msg, '\n') < 0 && bytes.IndexByte(msg, 0) < 0 {
			return append(b, t)[start:], scratch
		}
		scratch = scratch[:0]
		for _, c := range msg {
			switch c {
			case '\n':
				scratch = append(scratch, "#012"...)
			case 0:
				scratch = append(scratch, "#000"...)
			default:
				scratch = append(scratch, c)
			}
		}
		return append(scratch, t), scratch
	}
	var digits [OctetReserve]byte
	prefix := append(strconv.AppendInt(digits[:0], int64(len(msg)), 10), ' ')
	at := start - len(prefix)
	copy(b[at:], prefix)
	return b[at:], scratch
}

// SyslogReader reads syslog messages from a stream, detecting the framing
// of each frame as rsyslog does: a frame that starts with a digit is
// octet-counted, any other ends at LF or NUL (a last message without a
// trailer ends at EOF). Empty lines are skipped.
type SyslogReader struct {
	Buffer // set Buffer.A to take it from an Allocator
	r      *bufio.Reader
	max    int
}

// NewSyslogReader reads messages of at most max bytes from r.
func NewSyslogReader(r io.Reader, max int) *SyslogReader {
	return &SyslogReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next message, valid until the following call; io.EOF
// at a clean end; an error wrapping ErrFrameTooLarge for a count or line
// over the limit (nothing beyond the limit is buffered), or ErrTruncated.
func (s *SyslogReader) Next() ([]byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return nil, err
		}
		switch {
		case c == '\n' || c == 0 || c == '\r':
			continue
		case c >= '0' && c <= '9':
			return s.counted(c)
		}
		return s.line(c)
	}
}

func (s *SyslogReader) counted(first byte) ([]byte, error) {
	n := uint64(first - '0')
	for digits := 1; ; digits++ {
		c, err := s.r.ReadByte()
		if err != nil {
			return nil, truncated(err, digits, digits+1)
		}
		if c == ' ' {
			break
		}
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("%w: octet count has byte %q after %d digits", ErrBadFrame, c, digits)
		}
		// Refused as soon as it passes the limit: no count can overflow.
		if n = n*10 + uint64(c-'0'); n > uint64(s.max) {
			return nil, fmt.Errorf("%w: octet count over the limit of %d bytes", ErrFrameTooLarge, s.max)
		}
	}
	p, err := s.Get(int(n))
	if err != nil {
		return nil, err
	}
	if got, err := io.ReadFull(s.r, p); err != nil {
		return nil, truncated(err, got, int(n))
	}
	return p, nil
}

func (s *SyslogReader) line(first byte) ([]byte, error) {
	p, err := s.Get(0)
	if err != nil {
		return nil, err
	}
	for c := first; ; {
		if len(p) >= s.max {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrFrameTooLarge, s.max)
		}
		if p, err = s.Grow(p, c, s.max); err != nil {
			return nil, err
		}
		c, err = s.r.ReadByte()
		if err == io.EOF || err == nil && (c == '\n' || c == 0) {
			return p, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
