package receive

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/netlog-go/netlog/internal/ascii"
	"github.com/netlog-go/netlog/internal/batch"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/record"
)

// Printer is a Committer that writes records to W in batches: Add
// appends a record to the batch being gathered, which is written with one
// Write when it holds 256 KiB, 10 ms after its first record, or when a
// Commit asks for it; Write adds one record and commits it. An error
// writing W stays (batch.Writer says why): every later Add, Commit and
// Write returns it.
//
// The text form is one record line, then one continuation line per line
// break of the message, exc_text and stack_info, each starting with a TAB:
//
//	TIME PEER LEVELNAME NAME: MSG key=value group.key=value source=FILE:LINE
//	<TAB>more of MSG, then EXC_TEXT and STACK_INFO
//
// TIME is RFC 3339 with microseconds in UTC, or "-" if unknown or
// outside the years 0000–9999 that RFC 3339 can write. A syslog
// message adds, before the source, facility=, severity=, hostname=,
// procid=, msgid= (those that are set), each structured data parameter as
// SD-ID.NAME=VALUE, and syslog=raw for a message that did not parse.
// PEER is the sender's address (Entry.Peer, rsyslog's fromhost-ip), left
// out with its space for a record that was not received.
//
// Nothing a sender writes can start a line or reach a terminal as a
// control: in every field, the C0 controls (TAB, CR, NUL, ESC…), DEL, the
// C1 controls (U+0080–U+009F), the line and paragraph separators
// (U+2028, U+2029), the bidirectional overrides (U+202A–U+202E,
// U+2066–U+2069) and each byte of invalid UTF-8 are escaped as Go does
// (\t, \r, \x00, \x1b, \u009b, \xff). A line feed is escaped (\n) in
// LEVELNAME, NAME, keys, SD-IDs and SD names; in MSG, exc_text and
// stack_info it becomes a line feed and a TAB, a continuation line. Values
// (attributes, syslog fields, SD values, source) are written bare when
// they hold only printable characters other than space, '"' and '=', else
// quoted as Go strings (strconv.Quote), which escapes all of the above.
// So every line that does not start with a TAB is the first line of one
// record.
//
// The JSON form is the record's JSON wire form (record.JSON), one object
// per line: the LogRecord fields and the attributes, groups as nested
// objects; a syslog message adds "syslog_format", "facility" and
// "severity" (names), "hostname", "appname", "procid", "msgid" and
// "structured_data" (an object of SD-ID → object of PARAM-NAME → value);
// a received record adds "peer" and "listener", unless its attributes
// have a "peer" (from the relay that forwarded it).
type Printer struct {
	W    io.Writer
	JSON bool
	// Sync makes a batch count as written only once W's Sync (an
	// *os.File's fsync) has returned, so that a record is acknowledged
	// only once it is on disk.
	Sync bool

	once sync.Once
	out  *batch.Writer
	text textState // used only while out is locked, by Add's append
}

func (p *Printer) batch() *batch.Writer {
	p.once.Do(func() { p.out = &batch.Writer{W: p.W, Sync: p.Sync} })
	return p.out
}

// Write prints e and returns once it is written.
func (p *Printer) Write(e *record.Entry) error {
	t, err := p.Add(e)
	if err != nil {
		return err
	}
	return p.Commit(context.Background(), t)
}

// Add appends e to the batch being gathered.
func (p *Printer) Add(e *record.Entry) (Ticket, error) {
	pos, err := p.batch().Append(func(b []byte) []byte { return p.append(b, e) })
	return Ticket(pos), err
}

// Commit returns once the batch holding t is written.
func (p *Printer) Commit(ctx context.Context, t Ticket) error {
	return p.batch().Commit(ctx, uint64(t))
}

// Flush writes every record added so far.
func (p *Printer) Flush() error { return p.batch().Flush() }

// Transient: a Printer encodes a record when it takes it.
func (*Printer) Transient() {}

// append appends e in the Printer's form.
func (p *Printer) append(b []byte, e *record.Entry) []byte {
	if !p.JSON {
		return appendText(b, e, &p.text)
	}
	b = record.JSONFormat.AppendBody(b, e)
	if e.Syslog != nil {
		b = syslog.AppendFields(record.JSON, b, e.Syslog)
	}
	if e.Peer != "" && !hasPeer(e) { // a relayed record has the first relay's already
		b = record.JSON.String(record.JSON.Key(b, "peer"), e.Peer)
		b = record.JSON.String(record.JSON.Key(b, "listener"), e.Listener)
	}
	return append(record.JSON.End(b), '\n')
}

// hasPeer reports whether e has a "peer" attribute: a record forwarded by
// a relay (netlog serve --out) carries the peer that relay received it
// from.
func hasPeer(e *record.Entry) bool {
	for _, a := range e.Attrs {
		if a.Key == "peer" {
			return true
		}
	}
	return false
}

// textState is what appendText keeps from one record to the next: the
// formatting of the last second seen, and whether the last peer,
// pathname and syslog hostname were bare (a connection's records mostly
// have the same).
type textState struct {
	stamp            stamp
	peer, path, host bareCache
}

// appendText appends e in the text form.
func appendText(b []byte, e *record.Entry, st *textState) []byte {
	if e.Created.IsZero() {
		b = append(b, '-')
	} else {
		b = st.stamp.append(b, e.Created)
	}
	if e.Peer != "" { // where a syslog daemon writes the sender's host
		b = st.peer.appendValue(append(b, ' '), e.Peer)
	}
	b = appendEscaped(append(b, ' '), e.LevelName, false)
	b = appendEscaped(append(b, ' '), e.Name, false)
	b = appendEscaped(append(b, ": "...), e.Msg, true)
	for i := range e.Attrs { // not copied
		b = appendTextAttr(b, "", &e.Attrs[i])
	}
	if e.Syslog != nil {
		b = appendSyslogText(b, e.Syslog, &st.host)
	}
	if e.Lineno > 0 {
		b = append(b, " source="...)
		if st.path.bare(e.Pathname) { // so is PATHNAME:LINE
			b = strconv.AppendInt(append(append(b, e.Pathname...), ':'), int64(e.Lineno), 10)
		} else {
			b = appendTextValue(b, e.Pathname+":"+strconv.Itoa(e.Lineno))
		}
	}
	for _, block := range [...]string{e.ExcText, e.StackInfo} {
		if block == "" {
			continue
		}
		b = appendEscaped(append(b, "\n\t"...), block, true)
	}
	return append(b, '\n')
}

// stamp formats a record's time as RFC 3339 with microseconds in UTC
// (Go's layout "2006-01-02T15:04:05.000000Z07:00"), or "-" outside the
// years 0000–9999 (where Go writes more or fewer digits, or a sign),
// keeping the date and time of the last second it formatted: records
// mostly come in the same second as the one before.
type stamp struct {
	sec     int64
	prefix  []byte // "2006-01-02T15:04:05" of sec
	rfc3339 bool   // sec is in the years RFC 3339 can write
}

func (st *stamp) append(b []byte, t time.Time) []byte {
	t = t.UTC()
	if sec := t.Unix(); sec != st.sec || st.prefix == nil {
		y := t.Year()
		st.sec, st.prefix, st.rfc3339 = sec, t.AppendFormat(st.prefix[:0], "2006-01-02T15:04:05"), y >= 0 && y <= 9999
	}
	if !st.rfc3339 {
		return append(b, '-')
	}
	us := t.Nanosecond() / 1000 // truncated, as the layout's .000000 does
	b = append(append(b, st.prefix...), '.')
	b = appendTwoDigits(appendTwoDigits(appendTwoDigits(b, us/10000), us/100%100), us%100)
	return append(b, 'Z')
}

// appendTwoDigits appends n, below 100, as two decimal digits.
func appendTwoDigits(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// appendEscaped appends s with the escapes of Printer's doc comment. With
// lines, a line feed is kept and followed by a TAB (a continuation line),
// so that a multi-line message or traceback stays readable and visibly one
// record.
func appendEscaped(b []byte, s string, lines bool) []byte {
	i := ascii.Printable(s, 0) // most often all of s
	b = append(b, s[:i]...)
	if i == len(s) {
		return b
	}
	return appendEscapedFrom(b, s, i, lines)
}

// appendEscapedFrom is appendEscaped for s from i, a byte that is not
// printable ASCII.
func appendEscapedFrom(b []byte, s string, i int, lines bool) []byte {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n' && lines:
			b = append(b, '\n', '\t')
		case r == utf8.RuneError && size == 1:
			b = append(b, `\x`...)
			b = append(b, hexDigits[s[i]>>4], hexDigits[s[i]&0xf])
		case unsafeRune(r):
			b = appendRuneEscape(b, r)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
		j := ascii.Printable(s, i) // copied as a run
		b = append(b, s[i:j]...)
		i = j
	}
	return b
}

// unsafeRune reports whether r must not reach the output as it is: a
// control, a line or paragraph separator, or a bidirectional override.
func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

const hexDigits = "0123456789abcdef"

// appendRuneEscape appends the Go escape of an unsafe rune.
func appendRuneEscape(b []byte, r rune) []byte {
	switch r {
	case '\n':
		return append(b, `\n`...)
	case '\r':
		return append(b, `\r`...)
	case '\t':
		return append(b, `\t`...)
	}
	if r < 0x80 {
		return append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
	}
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

func appendTextAttr(b []byte, prefix string, a *slog.Attr) []byte {
	v := &a.Value
	kind := v.Kind()
	if kind == slog.KindGroup {
		group := v.Group()
		for i := range group {
			b = appendTextAttr(b, prefix+a.Key+".", &group[i])
		}
		return b
	}
	b = append(b, ' ')
	if prefix != "" {
		b = appendEscaped(b, prefix, false)
	}
	b = append(appendEscaped(b, a.Key, false), '=')
	switch kind { // appended as Value.String makes them, which are bare
	case slog.KindTime:
		return v.Time().AppendFormat(b, time.RFC3339Nano)
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		return strconv.AppendFloat(b, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindAny:
		if v.Any() == nil { // Python's None
			return append(b, "<nil>"...)
		}
	}
	return appendTextValue(b, v.String())
}

// appendTextValue writes s bare if it holds only printable characters
// other than space, '"' and '=', else as a quoted Go string.
func appendTextValue(b []byte, s string) []byte {
	switch {
	case s == "":
		return append(b, `""`...)
	case bare(s):
		return append(b, s...)
	}
	return strconv.AppendQuote(b, s)
}

// bare reports whether s holds only printable characters other than
// space, '"' and '='.
func bare(s string) bool {
	i := ascii.Bare(s, 0)
	return i == len(s) || s[i] >= 0x80 && bareUTF8(s[i:])
}

// bareCache remembers whether the last string it was asked about is
// bare: comparing with it costs less than scanning it again. It keeps a
// copy: the string may be a slice of bytes the Server reuses once the
// record is printed (Transient), which would then compare equal to a
// string that is not bare.
type bareCache struct {
	s      []byte
	isBare bool
}

func (c *bareCache) bare(s string) bool {
	if s != string(c.s) || s == "" { // "" starts it
		c.s, c.isBare = append(c.s[:0], s...), bare(s)
	}
	return c.isBare
}

// appendValue is appendTextValue for a string that is mostly the last.
func (c *bareCache) appendValue(b []byte, s string) []byte {
	if s != "" && c.bare(s) { // "" is written ""
		return append(b, s...)
	}
	return appendTextValue(b, s)
}

// bareUTF8 is bare for s beyond its ASCII start.
func bareUTF8(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == ' ' || r == '"' || r == '=' || !unicode.IsPrint(r) || unsafeRune(r) || (r == utf8.RuneError && size == 1) {
			return false
		}
		i += size
	}
	return true
}

// appendSyslogText appends the fields of a syslog message; host is the
// bareCache of its hostname.
func appendSyslogText(b []byte, s *record.Syslog, host *bareCache) []byte {
	if s.Format == "raw" {
		return append(b, " syslog=raw"...)
	}
	// Facility and severity names (or numbers) are bare.
	b = append(append(b, " facility="...), syslog.Facility(s.Facility).String()...)
	b = append(append(b, " severity="...), syslog.Severity(s.Severity).String()...)
	if s.Hostname != "" {
		b = host.appendValue(append(b, " hostname="...), s.Hostname)
	}
	if s.ProcID != "" {
		b = appendTextValue(append(b, " procid="...), s.ProcID)
	}
	if s.MsgID != "" {
		b = appendTextValue(append(b, " msgid="...), s.MsgID)
	}
	for _, el := range s.SD {
		// The SD-ID, escaped once, is copied before each parameter.
		id := [2]int{-1, -1}
		for _, p := range el.Params {
			b = append(b, ' ')
			if id[0] < 0 {
				id[0] = len(b)
				b = appendEscaped(b, el.ID, false)
				id[1] = len(b)
			} else {
				b = append(b, b[id[0]:id[1]]...)
			}
			b = appendEscaped(append(b, '.'), p.Name, false)
			b = appendTextValue(append(b, '='), p.Value)
		}
	}
	return b
}
