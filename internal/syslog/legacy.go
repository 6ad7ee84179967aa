package syslog

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/netlog-go/netlog/record"
)

// The Syslog.Format of a legacy message: RFC 3164 with a timestamp, the
// same without a <PRI> (priority 13, user.notice, assumed as RFC 3164
// §4.3.3 says a relay does), and the bare form without a timestamp.
const (
	formatRFC3164      = "rfc3164"
	formatRFC3164NoPRI = "rfc3164-nopri"
	formatBare         = "bare"
)

// errNoHeader refuses a message with neither <PRI> nor timestamp: nothing
// in it says it is syslog.
var errNoHeader = errors.New("no <PRI> (<0> to <191>) and no timestamp at its start")

// assumedPRI is the priority of a message that has none: user.notice.
const assumedPRI = 13

// legacy reads one legacy (BSD, RFC 3164) message by rsyslog's rules
// (its pmrfc3164 parser): every field is a slice of in, so a message costs
// the Entry and the one string of its bytes.
type legacy struct {
	in  string
	pos int
}

// parseLegacy reads p, which is not RFC 5424: "<PRI>", or none before a
// timestamp; a timestamp (3164 or RFC 3339); then HOSTNAME and TAG, and
// the rest is the text. Without a timestamp the message is bare: the text
// is all after <PRI>, but for a leading "TAG:" or "TAG[PID]:" (Python's
// SysLogHandler ident). docs/syslog-parsing.md lists where this differs
// from rsyslog, and why.
// It parses into x, or a new one if x is nil.
func parseLegacy(x *parsed, p string) (*record.Entry, error) {
	l := &legacy{in: p}
	pri, n, ok := splitPRI(l.in)
	format := formatRFC3164
	if !ok {
		pri, format = assumedPRI, formatRFC3164NoPRI
	}
	l.pos = n
	if x == nil {
		x = &parsed{}
	}
	x.s = record.Syslog{Format: format, Facility: pri >> 3, Severity: pri & 7}
	e, s := &x.e, &x.s
	e.Syslog = s
	var stamped bool
	if e.Created, stamped = l.timestamp(); !stamped {
		if !ok {
			return nil, errNoHeader
		}
		s.Format = formatBare
		l.pythonTag(s)
	} else {
		s.Hostname = l.hostname()
		if err := l.tag(s); err != nil {
			return nil, err
		}
	}
	e.Msg = text(l.in[l.pos:])
	finish(e)
	return e, nil
}

// timestamp reads an RFC 3339 or RFC 3164 timestamp and the space after
// it, or (false) leaves pos as it was. As rsyslog, one space before a
// 3164 timestamp is allowed (HP ProCurve sends it).
func (l *legacy) timestamp() (time.Time, bool) {
	start := l.pos
	if l.pos < len(l.in) && l.in[l.pos] >= '0' && l.in[l.pos] <= '9' {
		r := parser5424{in: l.in, pos: l.pos}
		if t, err := r.timestamp(); err == nil && l.endStamp(r.pos, false) {
			return t, true
		}
		return time.Time{}, false
	}
	if l.pos < len(l.in) && l.in[l.pos] == ' ' {
		l.pos++
	}
	if t, ok := l.stamp3164(); ok {
		return t, true
	}
	l.pos = start
	return time.Time{}, false
}

// endStamp accepts the end of a timestamp at i: an optional ':' (Cisco,
// for a 3164 timestamp), then the end of the message or a space, which it
// consumes.
func (l *legacy) endStamp(i int, colon bool) bool {
	if colon && i < len(l.in) && l.in[i] == ':' {
		i++
	}
	if i < len(l.in) {
		if l.in[i] != ' ' {
			return false
		}
		i++
	}
	l.pos = i
	return true
}

var months = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// stamp3164 reads "Mmm dd [yyyy ]hh:mm:ss[.f][:]" as rsyslog does: the
// month in any case, one or two spaces before the day, a year before the
// time (Cisco), a fraction of 1 to 9 digits. A timestamp without a year
// is in the current year of the local zone, the previous one for a
// December message read in January (and the next for January in
// December).
func (l *legacy) stamp3164() (time.Time, bool) {
	i := l.pos
	if i+4 > len(l.in) {
		return time.Time{}, false
	}
	month := 0
	for m, name := range months {
		if lower(l.in[i]) == name[0] && lower(l.in[i+1]) == name[1] && lower(l.in[i+2]) == name[2] {
			month = m + 1
		}
	}
	if month == 0 || l.in[i+3] != ' ' {
		return time.Time{}, false
	}
	i += 4
	if i < len(l.in) && l.in[i] == ' ' {
		i++
	}
	var v [5]int // day, hour, minute, second, year
	var ok bool
	if v[0], i, ok = l.number(i, 2, ' '); !ok || v[0] < 1 || v[0] > 31 {
		return time.Time{}, false
	}
	if y, j, ok := l.number(i, 4, ' '); ok && j-i == 5 && y > 1970 && y < 2100 {
		v[4], i = y, j
	}
	for k, sep := range [...]byte{':', ':', 0} {
		if v[k+1], i, ok = l.number(i, 2, sep); !ok {
			return time.Time{}, false
		}
	}
	if v[1] > 23 || v[2] > 59 || v[3] > 60 {
		return time.Time{}, false
	}
	ns := 0
	if i < len(l.in) && l.in[i] == '.' {
		j := i + 1
		for j < len(l.in) && l.in[j] >= '0' && l.in[j] <= '9' {
			j++
		}
		if ns, ok = atoi(l.in[i+1 : j]); !ok { // none, or over 9 digits
			return time.Time{}, false
		}
		for d := j - i - 1; d < 9; d++ {
			ns *= 10
		}
		i = j
	}
	if !l.endStamp(i, true) {
		return time.Time{}, false
	}
	if v[4] == 0 {
		v[4] = yearOf(time.Month(month), time.Now())
	}
	return time.Date(v[4], time.Month(month), v[0], v[1], v[2], v[3], ns, time.Local), true
}

// number reads 1 to max digits at i, then sep (0: none), and returns the
// value and the position after sep.
func (l *legacy) number(i, max int, sep byte) (int, int, bool) {
	n, j := 0, i
	for ; j < len(l.in) && j-i < max && l.in[j] >= '0' && l.in[j] <= '9'; j++ {
		n = n*10 + int(l.in[j]-'0')
	}
	if j == i {
		return 0, i, false
	}
	if sep != 0 {
		if j == len(l.in) || l.in[j] != sep {
			return 0, i, false
		}
		j++
	}
	return n, j, true
}

func lower(c byte) byte { return c | 0x20 }

// yearOf is the year of a timestamp in month without a year, read at now.
func yearOf(month time.Month, now time.Time) int {
	y, m, _ := now.Date()
	switch {
	case month == time.December && m == time.January:
		return y - 1
	case month == time.January && m == time.December:
		return y + 1
	}
	return y
}

// hostname reads HOSTNAME as rsyslog does: letters, digits, '.', '_' and
// '-', followed by a space (consumed) or the end. Anything else is not a
// hostname (a message from a local socket has none) and is left for the
// tag.
func (l *legacy) hostname() string {
	i := l.pos
	for i < len(l.in) && hostChar(l.in[i]) {
		i++
	}
	if i == l.pos || i < len(l.in) && l.in[i] != ' ' {
		return ""
	}
	h := l.in[l.pos:i]
	l.pos = min(i+1, len(l.in))
	return h
}

func hostChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// tag reads TAG after the hostname by rsyslog's rules: the name up to the
// first ':', '[', space or TAB, "[PID]" (the procid), an optional ':',
// and the one space or TAB that follows, which is not text. A tag may be
// absent: the text then starts at once (after one space; a TAB there is
// text). What cannot be
// read as a tag (a control character in it, a "[PID" not closed, bytes
// after "]" or that are not UTF-8) refuses the message.
func (l *legacy) tag(s *record.Syslog) error {
	if l.pos < len(l.in) && l.in[l.pos] == '\t' { // "\tat …", a stack trace's line: no tag
		return nil
	}
	name, procid, end, err := l.scanTag()
	if name == "" && l.pos < len(l.in) && l.in[l.pos] == '[' &&
		(err != nil || procid == "" || end < len(l.in) && l.in[end] > ' ' && l.in[end] != ':') {
		return nil // "[ 12.3] eth0: …", a kernel line, or "[]": no tag ("[main] …", Logback's thread, is a [PID])
	}
	if err != nil {
		return err
	}
	colon := end < len(l.in) && l.in[end] == ':'
	if colon {
		end++
	}
	switch {
	case end == len(l.in):
	case l.in[end] == ' ' || l.in[end] == '\t':
		end++
	case !colon:
		return fmt.Errorf("tag %q is followed by %q, not ':', a space or the end", clip(l.in[l.pos:end]), l.in[end])
	}
	if !utf8.ValidString(name) || !utf8.ValidString(procid) { // a header is text; this message is not one
		return fmt.Errorf("tag %q is not valid UTF-8", clip(l.in[l.pos:end]))
	}
	s.AppName, s.ProcID, l.pos = name, procid, end
	return nil
}

// scanTag reads the name and "[PID]" of a tag at pos and returns where
// they end.
func (l *legacy) scanTag() (name, procid string, end int, err error) {
	i := l.pos
	for ; i < len(l.in); i++ {
		c := l.in[i]
		if c == ':' || c == '[' || c == ' ' || c == '\t' {
			break
		}
		if c < ' ' || c == 0x7f {
			return "", "", 0, fmt.Errorf("tag has the control character %#02x", c)
		}
	}
	name = l.in[l.pos:i]
	if i == len(l.in) || l.in[i] != '[' {
		return name, "", i, nil
	}
	j := i + 1
	for j < len(l.in) && l.in[j] != ']' && l.in[j] > ' ' && l.in[j] != 0x7f {
		j++
	}
	if j == len(l.in) || l.in[j] != ']' {
		return "", "", 0, fmt.Errorf("tag %q: its [PID] is not closed", clip(l.in[l.pos:j]))
	}
	return name, l.in[i+1 : j], j + 1, nil
}

// pythonTag reads the ident of Python's SysLogHandler at the start of a
// bare message, "NAME: " or "NAME[PID]: " (as rsyslog reads it), into
// AppName and ProcID. Anything else is text, "<12>message" all of it.
func (l *legacy) pythonTag(s *record.Syslog) {
	name, procid, end, err := l.scanTag()
	if err != nil || name == "" || end == len(l.in) || l.in[end] != ':' ||
		!utf8.ValidString(name) || !utf8.ValidString(procid) {
		return
	}
	end++
	if end < len(l.in) && l.in[end] == ' ' {
		end++
	}
	s.AppName, s.ProcID, l.pos = name, procid, end
}

// clip is s held to 64 bytes for an error message: a tag may be as long
// as the message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
