package syslog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/netlog-go/netlog/record"
)

// ErrUnparsed is wrapped by every error Parse returns: the message is not
// syslog that Parse can read whole, and should be passed on as Raw(p).
var ErrUnparsed = errors.New("syslog: message does not parse")

// Parse decodes one syslog message: RFC 5424 if its version is 1, else
// legacy syslog read by rsyslog's rules: RFC 3164 if a timestamp (3164 or
// RFC 3339) follows <PRI> (Syslog.Format "rfc3164"), or starts a message
// without <PRI> (priority 13 assumed, Syslog.Format "rfc3164-nopri"),
// else the bare form Python's SysLogHandler sends (<PRI>, an optional
// "IDENT: " or "IDENT[PID]: ", the text; Syslog.Format "bare").
// Trailing NULs, CRs and LFs are ignored. The Entry has Msg, Created, the
// level of the severity, Name (app-name), Process (procid, if a number)
// and Syslog set.
//
// A result is complete: every byte of the message is in a header field,
// the structured data or Msg (docs/syslog-parsing.md lists the few
// repairs). A message that claims RFC 5424 or RFC 3164 and breaks its
// grammar is refused with an error wrapping ErrUnparsed that says where;
// the caller passes it on with Raw, never emptied.
func Parse(p []byte) (*record.Entry, error) { return parse(nil, string(trimEnd(p))) }

// A Message is room for one parsed message and its structured data, for
// a receiver that parses into the same room again and again.
type Message struct{ x parsed5424 }

// Parse is Parse into m, without allocating the Entry: the Entry returned
// is m's, overwritten by the next Parse into m, so whoever keeps it longer
// must copy it. Its strings are never overwritten.
func (m *Message) Parse(p []byte) (*record.Entry, error) {
	return m.ParseString(string(trimEnd(p)))
}

// ParseString is Parse of a message held in a string: the record's
// strings are slices of s (that of an RFC 5424 message's text, say), so
// that a receiver that copies many messages into one string makes one
// allocation for all of them.
func (m *Message) ParseString(s string) (*record.Entry, error) {
	m.x = parsed5424{}
	return parse(&m.x, trimEnd(s))
}

// parse is Parse of p, trimmed, into x, or into a new one if x is nil.
func parse(x *parsed5424, p string) (*record.Entry, error) {
	if is5424(p) {
		e, err := parse5424(x, p)
		if err != nil {
			return nil, fmt.Errorf("%w as RFC 5424: %w", ErrUnparsed, err)
		}
		return e, nil
	}
	var xl *parsed
	if x != nil {
		xl = &x.parsed
	}
	e, err := parseLegacy(xl, p)
	switch {
	case errors.Is(err, errNoHeader):
		return nil, fmt.Errorf("%w: %w", ErrUnparsed, err)
	case err != nil:
		return nil, fmt.Errorf("%w as RFC 3164: %w", ErrUnparsed, err)
	}
	return e, nil
}

// Raw is the Entry for a message Parse refused: Syslog.Format "raw", Msg
// the whole message (trailing NULs, CRs and LFs dropped, invalid UTF-8
// bytes replaced by U+FFFD), and the facility, severity and level of its PRI if
// it starts with a readable one (else zero, level NOTSET).
func Raw(p []byte) *record.Entry {
	p = trimEnd(p)
	x := &parsed{s: record.Syslog{Format: "raw"}}
	x.e.Syslog, x.e.Msg = &x.s, text(string(p))
	if pri, _, ok := splitPRI(p); ok {
		x.s.Facility, x.s.Severity = pri>>3, pri&7
		finish(&x.e)
	} else {
		x.e.LevelName = record.LevelName(0)
	}
	return &x.e
}

// trimEnd is p without its trailing NULs, CRs and LFs.
func trimEnd[T string | []byte](p T) T {
	for len(p) > 0 && (p[len(p)-1] == 0 || p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

// splitPRI reads "<PRI>" at the start of p, PRI being 0 to 191 in 1 to 3
// digits, and returns it and its length.
func splitPRI[T string | []byte](p T) (pri, n int, ok bool) {
	end := min(len(p), 5)
	for i := 2; i < end; i++ {
		if p[i] == '>' {
			end = i
			break
		}
	}
	if len(p) < 3 || p[0] != '<' || end >= len(p) || p[end] != '>' {
		return 0, 0, false
	}
	pri, ok = atoi(string(p[1:end]))
	if !ok || pri > 191 {
		return 0, 0, false
	}
	return pri, end + 1, true
}

// is5424 reports whether p starts "<PRI>1 ".
func is5424(p string) bool {
	_, n, ok := splitPRI(p)
	return ok && strings.HasPrefix(p[n:], "1 ")
}
