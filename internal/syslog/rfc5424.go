package syslog

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/netlog-go/netlog/internal/ascii"
	"github.com/netlog-go/netlog/record"
)

// RFC 5424 §6 field limits.
const (
	maxHostname = 255
	maxAppName  = 48
	maxProcID   = 128
	maxMsgID    = 32
	maxSDName   = 32
)

// parsed is an Entry and its Syslog in one allocation.
type parsed struct {
	e record.Entry
	s record.Syslog
}

// parsed5424 is parsed and room for the structured data of a typical
// message: with the string that holds the message's text, a message costs
// two allocations.
type parsed5424 struct {
	parsed
	sd     [4]record.SDElement
	params [8]record.SDParam
}

// parser5424 reads one RFC 5424 message strictly. Every field is a slice of
// in, one string holding the whole message, so that a message costs two
// allocations unless its structured data outgrows parsed5424.
type parser5424 struct {
	in    string
	pos   int
	valid bool // in is valid UTF-8: so is every field, each cut at an ASCII byte
}

// parse5424 parses "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG]"
// by the grammar and limits of RFC 5424 §6. The only repairs are those
// docs/syslog-parsing.md lists: a fraction of up to 9 digits, a BOM before
// MSG dropped, invalid UTF-8 in MSG or an SD value replaced by U+FFFD.
// It parses into x, or a new one if x is nil.
func parse5424(x *parsed5424, p string) (*record.Entry, error) {
	r := &parser5424{in: p, valid: utf8.ValidString(p)}
	pri, err := r.pri()
	if err != nil {
		return nil, err
	}
	if x == nil {
		x = &parsed5424{}
	}
	x.s = record.Syslog{Format: "rfc5424", Facility: pri >> 3, Severity: pri & 7}
	e, s := &x.e, &x.s
	e.Syslog = s
	if err := r.expect("1 "); err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	if e.Created, err = r.timestamp(); err != nil {
		return nil, err
	}
	for _, f := range [...]struct {
		name string
		max  int
		to   *string
	}{{"HOSTNAME", maxHostname, &s.Hostname}, {"APP-NAME", maxAppName, &s.AppName}, {"PROCID", maxProcID, &s.ProcID}, {"MSGID", maxMsgID, &s.MsgID}} {
		if !r.skip(' ') {
			return nil, fmt.Errorf("before %s: %w", f.name, r.want(" "))
		}
		if *f.to, err = r.field(f.name, f.max); err != nil {
			return nil, err
		}
	}
	if !r.skip(' ') {
		return nil, fmt.Errorf("before STRUCTURED-DATA: %w", r.want(" "))
	}
	if s.SD, err = r.structuredData(x.sd[:0], x.params[:0]); err != nil {
		return nil, err
	}
	if r.pos < len(r.in) {
		if !r.skip(' ') {
			return nil, fmt.Errorf("after STRUCTURED-DATA: %w", r.want(" "))
		}
		e.Msg = r.text(strings.TrimPrefix(r.in[r.pos:], "\ufeff"))
	}
	finish(e)
	return e, nil
}

// finish sets the fields an Entry derives from its syslog fields.
func finish(e *record.Entry) {
	e.Name = e.Syslog.AppName
	if pid, ok := atoi(e.Syslog.ProcID); ok {
		e.Process = pid
	}
	l := &severityLevels[min(max(e.Syslog.Severity, 0), 7)]
	e.LevelNo, e.LevelName = l.no, l.name
}

// severityLevels are the level number and name of each severity, made
// once: a name such as "Level 25" (notice) is built by concatenation.
var severityLevels = func() (ls [8]struct {
	no   int
	name string
}) {
	for s := range ls {
		ls[s].no = record.LevelNo(Severity(s).Level())
		ls[s].name = record.LevelName(ls[s].no)
	}
	return ls
}()

// atoi reads a decimal number of 1 to 9 digits.
func atoi(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func (r *parser5424) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", r.pos, fmt.Sprintf(format, args...))
}

func (r *parser5424) expect(s string) error {
	if !strings.HasPrefix(r.in[r.pos:], s) {
		return r.want(s)
	}
	r.pos += len(s)
	return nil
}

// skip reads c if it is next.
func (r *parser5424) skip(c byte) bool {
	if r.pos < len(r.in) && r.in[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

func (r *parser5424) want(s string) error { return r.errorf("want %q", s) }

// pri reads "<PRIVAL>", PRIVAL 0 to 191 in 1 to 3 digits.
func (r *parser5424) pri() (int, error) {
	pri, n, ok := splitPRI(r.in)
	if !ok {
		return 0, fmt.Errorf("PRI: want <0> to <191>")
	}
	r.pos = n
	return pri, nil
}

// field reads NILVALUE (as "") or 1 to max PRINTUSASCII characters.
func (r *parser5424) field(name string, max int) (string, error) {
	start := r.pos
	r.pos = ascii.Graphic(r.in, r.pos)
	if r.pos < len(r.in) && r.in[r.pos] != ' ' {
		return "", r.errorf("%s: byte %#02x is not printable US-ASCII", name, r.in[r.pos])
	}
	switch f := r.in[start:r.pos]; {
	case f == "":
		return "", r.errorf("%s is empty", name)
	case len(f) > max:
		return "", r.errorf("%s is %d characters, over %d", name, len(f), max)
	case f == "-":
		return "", nil
	default:
		return f, nil
	}
}

// digits reads exactly n digits.
func (r *parser5424) digits(n int) (int, bool) {
	if r.pos+n > len(r.in) {
		return 0, false
	}
	v, ok := atoi(r.in[r.pos : r.pos+n])
	if ok {
		r.pos += n
	}
	return v, ok
}

// timestamp reads NILVALUE (the zero time) or
// FULL-DATE "T" PARTIAL-TIME TIME-OFFSET with a fraction of 1 to 9 digits
// (RFC 5424 allows 6; .NET and others send 7).
func (r *parser5424) timestamp() (time.Time, error) {
	if strings.HasPrefix(r.in[r.pos:], "- ") {
		r.pos++
		return time.Time{}, nil
	}
	start := r.pos
	v, ok := r.dateTime()
	const seps = "--T::"
	for i := 0; !ok && i < len(v); i++ { // not all there: find what is wrong
		n := 2
		if i == 0 {
			n = 4
		}
		var good bool
		if v[i], good = r.digits(n); !good {
			return time.Time{}, r.errorf("TIMESTAMP: want %d digits", n)
		}
		if i < len(seps) {
			if r.pos == len(r.in) || r.in[r.pos] != seps[i] {
				return time.Time{}, r.errorf("TIMESTAMP: want %q", seps[i])
			}
			r.pos++
		}
	}
	ns := 0
	if r.pos < len(r.in) && r.in[r.pos] == '.' {
		r.pos++
		d := 0
		for ; r.pos < len(r.in) && r.in[r.pos] >= '0' && r.in[r.pos] <= '9'; r.pos++ {
			if d++; d > 9 {
				return time.Time{}, r.errorf("TIMESTAMP: a fraction of over 9 digits")
			}
			ns = ns*10 + int(r.in[r.pos]-'0')
		}
		if d == 0 {
			return time.Time{}, r.errorf("TIMESTAMP: no digit after '.'")
		}
		for ; d < 9; d++ {
			ns *= 10
		}
	}
	loc, err := r.offset()
	if err != nil {
		return time.Time{}, err
	}
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > daysIn(v[1], v[0]) || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return time.Time{}, fmt.Errorf("TIMESTAMP %q is not a valid date and time", r.in[start:r.pos])
	}
	return time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], ns, loc), nil
}

// dateTime reads FULL-DATE "T" PARTIAL-TIME up to the fraction, if it
// is all there, in one go: timestamp's loop reads it otherwise, and says
// what is wrong.
func (r *parser5424) dateTime() (v [6]int, ok bool) {
	if len(r.in)-r.pos < 19 {
		return v, false
	}
	s := r.in[r.pos : r.pos+19]
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return v, false
	}
	var oks [6]bool
	v[0], oks[0] = atoi(s[0:4])
	for i := 1; i < 6; i++ {
		v[i], oks[i] = atoi(s[3*i+2 : 3*i+4])
	}
	if oks != [6]bool{true, true, true, true, true, true} {
		return v, false
	}
	r.pos += 19
	return v, true
}

// daysIn is the number of days of month m (1 to 12) in year y.
func daysIn(m, y int) int {
	if m == 2 {
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (m+m/8)%2 // 31 in January to July's odd months, August to December's even ones
}

// offset reads TIME-OFFSET: "Z" or +hh:mm / -hh:mm.
func (r *parser5424) offset() (*time.Location, error) {
	if r.pos < len(r.in) && r.in[r.pos] == 'Z' {
		r.pos++
		return time.UTC, nil
	}
	if r.pos == len(r.in) || (r.in[r.pos] != '+' && r.in[r.pos] != '-') {
		return nil, r.errorf("TIMESTAMP: no time zone (want Z, +hh:mm or -hh:mm)")
	}
	sign := 1
	if r.in[r.pos] == '-' {
		sign = -1
	}
	r.pos++
	h, ok1 := r.digits(2)
	ok2 := r.expect(":") == nil
	m, ok3 := r.digits(2)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 {
		return nil, r.errorf("TIMESTAMP: bad time zone offset")
	}
	return zone(sign * (h*3600 + m*60)), nil
}

// zones caches a Location per UTC offset in minutes (-23:59 to +23:59),
// so that a timestamp costs no allocation.
var zones [2*24*60 - 1]atomic.Pointer[time.Location]

func zone(offset int) *time.Location {
	if offset == 0 {
		return time.UTC
	}
	z := &zones[offset/60+24*60-1]
	if l := z.Load(); l != nil {
		return l
	}
	z.CompareAndSwap(nil, time.FixedZone("", offset))
	return z.Load()
}

// structuredData reads NILVALUE (nil) or one or more SD-ELEMENTs into sd
// and params (whose arrays it uses while they have room), and returns them
// sorted by ID, each one's parameters sorted by name (stable: a repeated
// ID or name keeps its order).
func (r *parser5424) structuredData(sd []record.SDElement, all []record.SDParam) ([]record.SDElement, error) {
	if r.pos < len(r.in) && r.in[r.pos] == '-' {
		r.pos++
		return nil, nil
	}
	if r.pos == len(r.in) || r.in[r.pos] != '[' {
		return nil, r.errorf("STRUCTURED-DATA: want '-' or '['")
	}
	for r.pos < len(r.in) && r.in[r.pos] == '[' {
		r.pos++
		id, err := r.sdName("SD-ID")
		if err != nil {
			return nil, err
		}
		first := len(all)
		for r.pos < len(r.in) && r.in[r.pos] == ' ' {
			r.pos++
			var p record.SDParam
			if p.Name, err = r.sdName("PARAM-NAME"); err != nil {
				return nil, err
			}
			if err := r.expect(`="`); err != nil {
				return nil, fmt.Errorf("SD-PARAM %s: %w", p.Name, err)
			}
			if p.Value, err = r.sdValue(); err != nil {
				return nil, err
			}
			all = append(all, p)
		}
		if !r.skip(']') {
			return nil, fmt.Errorf("SD-ELEMENT %s: %w", id, r.want("]"))
		}
		// Capped, so that a later append to all (past its room) copies
		// rather than writes under an element already made.
		ps := all[first:len(all):len(all)]
		sortStable(ps, func(a, b record.SDParam) int { return strings.Compare(a.Name, b.Name) })
		sd = append(sd, record.SDElement{ID: id, Params: ps})
	}
	sortStable(sd, func(a, b record.SDElement) int { return strings.Compare(a.ID, b.ID) })
	return sd, nil
}

// sortStable sorts a few items by insertion, more (a message may hold
// thousands of elements) by slices.SortStableFunc.
func sortStable[T any](s []T, cmp func(a, b T) int) {
	if len(s) > 12 {
		slices.SortStableFunc(s, cmp)
		return
	}
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && cmp(s[j], s[j-1]) < 0; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// sdName reads an SD-NAME: 1 to 32 PRINTUSASCII except '=', ']' and '"'.
func (r *parser5424) sdName(what string) (string, error) {
	start := r.pos
	r.pos = scan(r.in, r.pos, &sdNameByte)
	if r.pos < len(r.in) {
		if c := r.in[r.pos]; c != '=' && c != ']' && c != ' ' {
			return "", r.errorf("%s: byte %#02x not allowed", what, c)
		}
	}
	switch n := r.pos - start; {
	case n == 0:
		return "", r.errorf("%s is empty", what)
	case n > maxSDName:
		return "", r.errorf("%s is %d characters, over %d", what, n, maxSDName)
	}
	return r.in[start:r.pos], nil
}

// sdNameByte are the bytes of an SD-NAME (PRINTUSASCII but '=', ']' and
// '"'): one table lookup a byte instead of four comparisons.
var sdNameByte = func() (sd [256]bool) {
	for c := 33; c <= 126; c++ {
		sd[c] = c != '=' && c != ']' && c != '"'
	}
	return
}()

// scan returns the offset of the first byte of s from i that is not in
// set (len(s) if none).
func scan(s string, i int, set *[256]bool) int {
	for i < len(s) && set[s[i]] {
		i++
	}
	return i
}

// sdValue reads a PARAM-VALUE up to its closing '"' (which it consumes),
// unescaping \" \\ and \]; a backslash before any other character is kept
// (RFC 5424 §6.3.3). An unescaped ']' is taken as text: the quotes delimit
// the value unambiguously.
func (r *parser5424) sdValue() (string, error) {
	rest := r.in[r.pos:]
	if q := strings.IndexByte(rest, '"'); q >= 0 && strings.IndexByte(rest[:q], '\\') < 0 { // no escape: the first '"' ends it
		r.pos += q + 1
		return r.text(rest[:q]), nil
	}
	start := r.pos
	escaped := false
	for ; r.pos < len(r.in); r.pos++ {
		switch r.in[r.pos] {
		case '\\':
			if r.pos+1 < len(r.in) && strings.IndexByte(`"\]`, r.in[r.pos+1]) >= 0 {
				escaped = true
				r.pos++
			}
		case '"':
			v := r.in[start:r.pos]
			r.pos++
			if escaped {
				v = unescapeSD(v)
			}
			return r.text(v), nil
		}
	}
	return "", r.errorf("PARAM-VALUE has no closing '\"'")
}

func unescapeSD(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && strings.IndexByte(`"\]`, v[i+1]) >= 0 {
			i++
		}
		b = append(b, v[i])
	}
	return string(b)
}

// text is text(s), checked only if the message is not valid UTF-8.
func (r *parser5424) text(s string) string {
	if r.valid {
		return s
	}
	return text(s)
}

// text is s with each byte that is not part of valid UTF-8 replaced by
// U+FFFD (as a UTF-8 decoder reads it): a message may hold any bytes (RFC
// 5424's MSG-ANY), an Entry holds text.
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}
