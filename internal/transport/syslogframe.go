package transport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
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

// SyslogReader reads syslog messages from a stream. The stream's first
// frame decides its framing, kept to its end: if it starts with a digit,
// every frame is octet-counted; else every one ends at LF or NUL (a last
// one without a trailer ends at EOF), and a line that starts with digits
// is never taken for a count. LF, NUL and CR bytes before a frame are
// skipped. With Join set, the lines of a multi-line message sent over LF
// framing are joined back into one message. docs/syslog-framing.md has
// the rules and why.
type SyslogReader struct {
	Buffer // set Buffer.A to take it from an Allocator
	// Join, if set, joins lines into messages (see LineJoin).
	Join *LineJoin
	// Borrow: an octet-counted message of at most Borrow bytes that is
	// buffered whole is returned in the reader's own buffer instead of
	// a copy in Buffer's, for a caller that copies it at once anyway.
	Borrow  int
	r       *bufio.Reader
	max     int
	framing Framing // "" until the first frame
	syslog  bool    // a line has begun with <PRI>: the lines without one continue messages
}

// LineJoin is how a SyslogReader joins the lines of LF-framed messages.
// From the stream's first line that begins with "<PRI>" (1 to 3 digits,
// at most 191) on, a line that does not begin with one continues the
// message before it, the LF kept in the text; before it, every line is a
// message (a stream of plain lines is not one long message). A message
// ends at a line that begins with <PRI>, at NUL, at EOF, when no more
// bytes come within Wait's time, or at the size limit: it is then cut at
// the end of its last line if the next one is buffered whole and fits in
// the limit on its own, else at the limit itself, and what follows is
// read as further messages, so that no text is lost (a line over the
// limit is cut likewise, where without joining it is refused). Blank
// lines at the end of a message are dropped.
type LineJoin struct {
	// Wait, if set, is called with true before the reader waits for the
	// bytes that say whether a message goes on, when they are not
	// buffered yet, and with false after: a receiver sets a short read
	// deadline there, so that the read fails and the message ends when
	// the peer pauses, and then puts back its own deadline. nil: the
	// reader waits for as long as its reads do.
	Wait func(waiting bool)
	// Lines counts the lines joined to a message before them; Cuts, the
	// messages cut at the size limit. Either may be nil.
	Lines, Cuts *atomic.Uint64
}

// NewSyslogReader reads messages of at most max bytes from r, through
// BufReader(r).
func NewSyslogReader(r io.Reader, max int) *SyslogReader {
	return &SyslogReader{r: BufReader(r), max: max}
}

// Next returns the next message, valid until the following call; io.EOF
// at a clean end; an error wrapping ErrFrameTooLarge for a count or line
// over the limit (nothing beyond the limit is buffered), ErrTruncated, or
// ErrBadFrame for a frame of an octet-counted stream that starts with no
// count.
func (s *SyslogReader) Next() ([]byte, error) {
	c, err := s.skipBlank()
	if err != nil {
		return nil, err
	}
	digit := c >= '0' && c <= '9'
	if s.framing == "" {
		s.framing = LF
		if digit {
			s.framing = OctetCounting
		}
	}
	switch {
	case s.framing == LF:
		return s.message()
	case !digit:
		return nil, fmt.Errorf("%w: a frame of an octet-counted stream starts with %q, not a count", ErrBadFrame, c)
	}
	return s.counted()
}

// skipBlank skips LF, NUL and CR and returns the next byte, left unread.
func (s *SyslogReader) skipBlank() (byte, error) {
	for {
		b, err := s.r.Peek(1)
		if err != nil {
			return 0, err
		}
		if c := b[0]; c != '\n' && c != 0 && c != '\r' {
			return c, nil
		}
		s.r.Discard(1)
	}
}

func (s *SyslogReader) counted() ([]byte, error) {
	var n uint64
	for digits := 0; ; digits++ {
		c, err := s.r.ReadByte()
		if err != nil {
			return nil, truncated(err, digits, digits+1)
		}
		if c == ' ' && digits > 0 {
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
	if int(n) <= s.Borrow && int(n) <= s.r.Buffered() {
		p, _ := s.r.Peek(int(n))
		s.r.Discard(int(n))
		return p, nil
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

// lineEnd is what ended a line.
type lineEnd uint8

const (
	atLF    lineEnd = iota
	atNUL           // a frame's end: no line joins across it
	atEOF           // the stream's end
	atLimit         // the size limit cut the line
)

// message reads an LF-framed message: a line, and the lines that
// continue it if joining is on.
func (s *SyslogReader) message() ([]byte, error) {
	p, err := s.Get(0)
	if err != nil {
		return nil, err
	}
	p, end, err := s.line(p, s.Join != nil)
	if err != nil {
		return nil, err
	}
	if pri, decided := priStart(p); pri && decided {
		s.syslog = true
	}
	joining := s.Join != nil && s.syslog
	switch {
	case end == atLimit && !joining:
		return nil, fmt.Errorf("%w: line longer than %d bytes", ErrFrameTooLarge, s.max)
	case end == atLimit:
		count(s.Join.Cuts, 1)
	case end == atLF && joining:
		return s.join(p)
	}
	return p, nil
}

var lf = []byte{'\n'}

// join appends to the message p the lines that continue it.
func (s *SyslogReader) join(p []byte) ([]byte, error) {
	keep, lines, blank := len(p), 0, 0 // keep: the end of the last line that is not blank
	for end := atLF; end == atLF && s.continues(); {
		if s.cutBefore(len(p)) {
			count(s.Join.Cuts, 1)
			break
		}
		q, err := s.Append(p, lf, s.max)
		if err != nil {
			break // the message ends here; the next read meets the error again
		}
		start := len(q)
		// A read error ends the message with what came of the line; the
		// next read meets it again.
		p, end, _ = s.line(q, true)
		if l := p[start:]; end != atLimit && (len(l) == 0 || len(l) == 1 && l[0] == '\r') {
			blank++
			continue
		}
		keep, lines, blank = len(p), lines+1+blank, 0
		if end == atLimit {
			count(s.Join.Cuts, 1)
		}
	}
	count(s.Join.Lines, lines)
	return p[:keep], nil
}

// continues reports whether the next line continues the message: it
// does not begin with <PRI>. A read error (Wait's deadline, EOF) ends
// the message; the next read meets it again.
func (s *SyslogReader) continues() bool {
	for n := 1; ; {
		if _, err := s.peek(n); err != nil {
			return false
		}
		b, _ := s.r.Peek(s.r.Buffered())
		if pri, decided := priStart(b); decided {
			return !pri
		}
		n = len(b) + 1
	}
}

// peek is Peek, between calls of Wait if it has to wait for bytes.
func (s *SyslogReader) peek(n int) ([]byte, error) {
	if s.r.Buffered() < n && s.Join.Wait != nil {
		s.Join.Wait(true)
		defer s.Join.Wait(false)
	}
	return s.r.Peek(n)
}

// cutBefore reports whether a message of n bytes ends before its next
// line because of the limit: no byte of the line would fit, or the line
// is buffered whole and would fit on its own but not after the message.
func (s *SyslogReader) cutBefore(n int) bool {
	if n+2 > s.max {
		return true
	}
	b, _ := s.r.Peek(s.r.Buffered())
	l := endOfLine(b)
	return l < len(b) && n+1+l > s.max && l <= s.max
}

// line appends to p the bytes up to the end of the line: LF or NUL,
// consumed, or EOF. Beyond max bytes in p, it returns an error wrapping
// ErrFrameTooLarge, or with cut, p filled up to max (atLimit). With any
// error, p comes back with all that was read of the line.
func (s *SyslogReader) line(p []byte, cut bool) ([]byte, lineEnd, error) {
	for {
		if _, err := s.r.Peek(1); err != nil {
			if err == io.EOF {
				err = nil
			}
			return p, atEOF, err
		}
		b, _ := s.r.Peek(s.r.Buffered())
		n := endOfLine(b)
		limited := n > s.max-len(p)
		if limited && !cut {
			return p, atEOF, fmt.Errorf("%w: line longer than %d bytes", ErrFrameTooLarge, s.max)
		}
		if limited {
			n = s.max - len(p)
		}
		q, err := s.Append(p, b[:n], s.max)
		if err != nil {
			return p, atEOF, err
		}
		p = q
		s.r.Discard(n)
		switch {
		case limited:
			return p, atLimit, nil
		case n < len(b):
			c := b[n]
			s.r.Discard(1)
			if c == 0 {
				return p, atNUL, nil
			}
			return p, atLF, nil
		}
	}
}

// endOfLine is the index of b's first LF or NUL, or len(b).
func endOfLine(b []byte) int {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return i
	}
	return len(b)
}

// priStart reads the "<PRI>" that may begin b (1 to 3 digits, at most
// 191, as the syslog parser takes it); decided is false while b is too
// short to tell.
func priStart(b []byte) (pri, decided bool) {
	if len(b) == 0 {
		return false, false
	}
	if b[0] != '<' {
		return false, true
	}
	v := 0
	for i, c := range b[1:] {
		switch {
		case c == '>':
			return i > 0 && v <= 191, true
		case c < '0' || c > '9' || i == 3:
			return false, true
		}
		v = v*10 + int(c-'0')
	}
	return false, false
}

func count(c *atomic.Uint64, n int) {
	if c != nil && n > 0 {
		c.Add(uint64(n))
	}
}
