// Package relp speaks RELP, rsyslog's Reliable Event Logging Protocol:
// syslog messages over TCP, each acknowledged by the receiver once it has
// taken it, so that a sender keeps what a crashed receiver never confirmed
// and sends it again.
//
// A frame is "TXNR SP COMMAND SP DATALEN [SP DATA] LF": a transaction
// number (1 to 999,999,999, then 1 again), a command ("open", "syslog",
// "close", "rsp", "serverclose"), the length of the data, and the data.
// The receiver answers each command with "TXNR rsp LEN CODE SP TEXT".
package relp

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/netlog-go/netlog/internal/transport"
)

// MaxTxnr is the largest transaction number; the next one is 1.
const MaxTxnr = 999_999_999

// Frame is one RELP frame.
type Frame struct {
	Txnr    int
	Command string
	Data    []byte
}

// Append appends a frame to b.
func Append(b []byte, txnr int, command string, data []byte) []byte {
	return AppendTail(strconv.AppendInt(b, int64(txnr), 10), command, data)
}

// AppendTail appends a frame's tail to b: all of it after the transaction
// number. Frames that differ only in that number (a run of answers) can
// share one tail.
func AppendTail(b []byte, command string, data []byte) []byte {
	b = append(append(append(b, ' '), command...), ' ')
	b = strconv.AppendInt(b, int64(len(data)), 10)
	if len(data) > 0 {
		b = append(append(b, ' '), data...)
	}
	return append(b, '\n')
}

// ErrFrame reports a malformed frame; ErrTooLarge one whose data is over
// the Reader's limit. They wrap transport's ErrBadFrame and
// ErrFrameTooLarge, so a receiver classifies them as it does other frames.
var (
	ErrFrame    = fmt.Errorf("RELP: %w", transport.ErrBadFrame)
	ErrTooLarge = fmt.Errorf("RELP: %w", transport.ErrFrameTooLarge)
)

// Reader reads frames whose data is at most max bytes.
type Reader struct {
	transport.Buffer // set Buffer.A to take it from an Allocator
	r                *bufio.Reader
	max              int
	scratch          [32]byte // the header's fields, read without allocating
}

// NewReader reads frames from r, through transport.BufReader(r).
func NewReader(r io.Reader, max int) *Reader {
	return &Reader{r: transport.BufReader(r), max: max}
}

// Buffered says how many bytes are read and not yet returned.
func (r *Reader) Buffered() int { return r.r.Buffered() }

// Next returns the next frame; its Data is valid until the following
// call. io.EOF at a clean end; an error wrapping ErrFrame for a frame that
// breaks the grammar or is over the limit (nothing past the limit is read).
func (r *Reader) Next() (Frame, error) {
	var f Frame
	txnr, cmd, n, last, ok := r.header()
	if !ok {
		var err error
		if txnr, cmd, n, last, err = r.readHeader(); err != nil {
			return f, err
		}
	}
	f.Txnr, f.Command = txnr, cmd
	if n > r.max {
		return f, fmt.Errorf("%w: %d bytes of data, over the limit of %d", ErrTooLarge, n, r.max)
	}
	if n > 0 {
		if last != ' ' {
			return f, fmt.Errorf("%w: no space before the data", ErrFrame)
		}
		data, err := r.data(n + 1)
		if err != nil {
			return f, err
		}
		last, f.Data = data[n], data[:n]
	}
	if last != '\n' {
		return f, fmt.Errorf("%w: no LF after the data", ErrFrame)
	}
	return f, nil
}

// maxHeader is the longest well-formed header: a transaction number, a
// command, a data length and the spaces and the byte after it.
const maxHeader = 9 + 1 + 32 + 1 + 9 + 1

// header reads a frame's header from the bytes already in the read
// buffer, if they hold a whole well-formed one: the usual case, parsed
// without a call per byte. Otherwise (the buffer is empty, holds part of
// the header, or a malformed one) it reads nothing and reports false, and
// readHeader reads it, or says what is wrong with it.
func (r *Reader) header() (txnr int, cmd string, n int, last byte, ok bool) {
	p, _ := r.r.Peek(min(r.r.Buffered(), maxHeader))
	txnr, i, ok := digits(p, 0)
	if !ok || i == len(p) || p[i] != ' ' {
		return 0, "", 0, 0, false
	}
	start := i + 1
	for i = start; i < len(p) && i-start < 32 && 'a' <= p[i] && p[i] <= 'z'; i++ {
	}
	if i == start || i == len(p) || p[i] != ' ' {
		return 0, "", 0, 0, false
	}
	cmd = command(p[start:i])
	if n, i, ok = digits(p, i+1); !ok || i == len(p) || p[i] != ' ' && p[i] != '\n' {
		return 0, "", 0, 0, false
	}
	last = p[i]
	r.r.Discard(i + 1)
	return txnr, cmd, n, last, true
}

// digits reads a number of 1 to 9 digits, without a leading zero, from
// p[i:], and returns it and where it ends.
func digits(p []byte, i int) (n, end int, ok bool) {
	start := i
	for ; i < len(p) && i-start < 9 && '0' <= p[i] && p[i] <= '9'; i++ {
		n = n*10 + int(p[i]-'0')
	}
	return n, i, i > start && (i-start == 1 || p[start] != '0')
}

// readHeader reads a frame's header byte by byte: one that did not
// arrive whole, or one that is malformed.
func (r *Reader) readHeader() (txnr int, cmd string, n int, last byte, err error) {
	f, err := r.field(9)
	if err != nil {
		return 0, "", 0, 0, err
	}
	txnr, ok := whole(f)
	if !ok {
		return 0, "", 0, 0, fmt.Errorf("%w: transaction number %q", ErrFrame, f)
	}
	name, err := r.field(32)
	if err != nil {
		return 0, "", 0, 0, unexpected(err)
	}
	for _, c := range name {
		if c < 'a' || c > 'z' {
			return 0, "", 0, 0, fmt.Errorf("%w: command %q", ErrFrame, name)
		}
	}
	cmd = command(name) // before length, which reuses the scratch
	n, last, err = r.length()
	return txnr, cmd, n, last, err
}

// data reads the next n bytes: in the read buffer, if they fit in it, so
// that a message is not copied on its way to the caller's chunk; else
// into the Buffer.
func (r *Reader) data(n int) ([]byte, error) {
	if n <= r.r.Size() {
		p, err := r.r.Peek(n)
		if err != nil {
			return nil, unexpected(err)
		}
		r.r.Discard(n)
		return p, nil
	}
	b, err := r.Get(n)
	if err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, unexpected(err)
	}
	return b, nil
}

// commands are the command names Next returns without allocating.
var commands = [...]string{"rsp", "syslog", "open", "close", "serverclose"}

func command(b []byte) string {
	for _, c := range commands {
		if string(b) == c {
			return c
		}
	}
	return string(b)
}

// field reads up to a space: at most max bytes (up to 32), at least one.
// The bytes are valid until the next field or length.
func (r *Reader) field(max int) ([]byte, error) {
	b := r.scratch[:0]
	for {
		c, err := r.r.ReadByte()
		switch {
		case err != nil && len(b) > 0:
			return nil, unexpected(err)
		case err != nil:
			return nil, err
		case c == ' ' && len(b) > 0:
			return b, nil
		case c == ' ' || len(b) == max:
			return nil, fmt.Errorf("%w: field %q", ErrFrame, append(b, c))
		}
		b = append(b, c)
	}
}

// length reads DATALEN and the byte after it (a space or the LF).
func (r *Reader) length() (int, byte, error) {
	b := r.scratch[:0]
	for {
		c, err := r.r.ReadByte()
		if err != nil {
			return 0, 0, unexpected(err)
		}
		if c == ' ' || c == '\n' {
			n, ok := whole(b)
			if !ok {
				return 0, 0, fmt.Errorf("%w: data length %q", ErrFrame, b)
			}
			return n, c, nil
		}
		if len(b) == 9 {
			return 0, 0, fmt.Errorf("%w: data length %q…", ErrFrame, b)
		}
		b = append(b, c)
	}
}

// whole reads all of b, at most 9 bytes, as digits does.
func whole(b []byte) (int, bool) {
	n, end, ok := digits(b, 0)
	return n, ok && end == len(b)
}

func unexpected(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: the stream ended inside a frame", ErrFrame)
	}
	return err
}

// Offers is what a netlog client offers in its "open" command.
const Offers = "relp_version=0\nrelp_software=netlog,1,https://github.com/netlog-go/netlog\ncommands=syslog"

// OK is the data of a positive response.
const OK = "200 OK"
