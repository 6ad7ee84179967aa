package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leodido/go-syslog/v4/rfc3164"

	"github.com/netlog-go/netlog/record"
)

// ErrUnparsed is wrapped by every error Parse returns: the message is not
// syslog that Parse can read whole, and should be passed on as Raw(p).
var ErrUnparsed = errors.New("syslog: message does not parse")

// Parse decodes one syslog message: RFC 5424 if its version is 1, else
// RFC 3164 if a 3164 timestamp follows <PRI>, else the bare form Python's
// SysLogHandler sends (<PRI> then the message; Syslog.Format "bare").
// Trailing NULs, CRs and LFs are ignored. The Entry has Msg, Created, the
// level of the severity, Name (app-name), Process (procid, if a number)
// and Syslog set.
//
// A result is complete: every byte of the message is in a header field,
// the structured data or Msg (docs/syslog-parsing.md lists the few
// repairs). A message that claims RFC 5424 or RFC 3164 and breaks its
// grammar is refused with an error wrapping ErrUnparsed that says where;
// the caller passes it on with Raw, never emptied.
func Parse(p []byte) (*record.Entry, error) {
	p = bytes.TrimRight(p, "\x00\n\r")
	if is5424(p) {
		e, err := parse5424(p)
		if err != nil {
			return nil, fmt.Errorf("%w as RFC 5424: %w", ErrUnparsed, err)
		}
		return e, nil
	}
	pri, n, ok := splitPRI(p)
	if !ok {
		return nil, fmt.Errorf("%w: no <PRI> (<0> to <191>) at its start", ErrUnparsed)
	}
	if e, claimed, err := parse3164(p, pri, n); claimed {
		if err != nil {
			return nil, fmt.Errorf("%w as RFC 3164: %w", ErrUnparsed, err)
		}
		return e, nil
	}
	x := &parsed{s: record.Syslog{Format: "bare", Facility: pri >> 3, Severity: pri & 7}}
	x.e.Syslog, x.e.Msg = &x.s, text(string(p[n:]))
	finish(&x.e)
	return &x.e, nil
}

// Raw is the Entry for a message Parse refused: Syslog.Format "raw", Msg
// the whole message (trailing NULs, CRs and LFs dropped, invalid UTF-8
// bytes replaced by U+FFFD), and the facility, severity and level of its PRI if
// it starts with a readable one (else zero, level NOTSET).
func Raw(p []byte) *record.Entry {
	p = bytes.TrimRight(p, "\x00\n\r")
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
func is5424(p []byte) bool {
	_, n, ok := splitPRI(p)
	return ok && bytes.HasPrefix(p[n:], []byte("1 "))
}

// parse3164 reads p with go-syslog's RFC 3164 parser. claimed is false if
// no 3164 timestamp follows the PRI (the message is bare). Else the result
// must account for every byte: after the timestamp, the text up to Msg
// must be the start of " HOSTNAME TAG[PROCID]: " built from the fields the
// parser found, and Msg the rest of the message, to its end.
func parse3164(p []byte, pri, n int) (e *record.Entry, claimed bool, err error) {
	m, _ := rfc3164.NewParser(rfc3164.WithBestEffort(), rfc3164.WithYear(rfc3164.CurrentYear{}),
		rfc3164.WithLocaleTimezone(time.Local), rfc3164.WithRFC3339()).Parse(p)
	sm, ok := m.(*rfc3164.SyslogMessage)
	if !ok || sm == nil || sm.Timestamp == nil {
		return nil, false, nil
	}
	x := &parsed{s: record.Syslog{Format: "rfc3164", Facility: pri >> 3, Severity: pri & 7}}
	e, s := &x.e, &x.s
	e.Syslog, e.Created = s, *sm.Timestamp
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	s.Hostname, s.AppName, s.ProcID, e.Msg = str(sm.Hostname), str(sm.Appname), str(sm.ProcID), str(sm.Message)
	rest := string(p[n:])
	if ts := stampLen(rest); ts < len(rest) {
		rest = rest[ts:]
	} else {
		rest = ""
	}
	head, ok := strings.CutSuffix(rest, e.Msg)
	if !ok {
		return nil, true, fmt.Errorf("text after the header is cut short: read %q of %q", e.Msg, rest)
	}
	if want := header3164(s); !strings.HasPrefix(want, head) {
		return nil, true, fmt.Errorf("header %q is not HOSTNAME TAG[PID]: (read %q)", head, want)
	}
	for _, f := range [...]string{s.Hostname, s.AppName, s.ProcID} {
		if !utf8.ValidString(f) { // a header is text; this message is not one
			return nil, true, fmt.Errorf("header field %q is not valid UTF-8", f)
		}
	}
	e.Msg = text(e.Msg)
	finish(e)
	return e, true, nil
}

// stampLen is the length of the 3164 timestamp at the start of s: up to
// the first space for RFC 3339, else "Mmm dd hh:mm:ss".
func stampLen(s string) int {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		if i := strings.IndexByte(s, ' '); i >= 0 {
			return i
		}
		return len(s)
	}
	return len("Mmm dd hh:mm:ss")
}

// header3164 is " HOSTNAME TAG[PROCID]: " from the fields that are set.
func header3164(s *record.Syslog) string {
	h := ""
	if s.Hostname != "" {
		h = " " + s.Hostname
	}
	h += " "
	if s.AppName != "" {
		h += s.AppName
		if s.ProcID != "" {
			h += "[" + s.ProcID + "]"
		}
		h += ": "
	}
	return h
}
