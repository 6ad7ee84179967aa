// Package flat writes slog attributes flat, as dotted names with text
// values: the syslog handler's structured data and key=value text, the
// SMTP handler's "name: value" email lines.
package flat

import (
	"log/slog"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/record"
)

// Sink writes one attribute for Append.
type Sink interface {
	// Param appends one attribute named prefix+key.
	Param(b []byte, prefix, key string, v slog.Value) []byte
	// Taken reports whether a top-level attribute is used elsewhere (the
	// syslog MSGID) instead of being written.
	Taken(key string) bool
}

// Append appends a following slog's rules (resolve, ReplaceAttr with the
// group path, skip empty attributes, inline groups with an empty key),
// its groups flattened into a dotted prefix.
func Append(b []byte, prefix string, a slog.Attr, groups []string, replace record.Replacer, s Sink) []byte {
	a.Value = a.Value.Resolve()
	if replace != nil && a.Value.Kind() != slog.KindGroup {
		a = replace(groups, a)
		a.Value = a.Value.Resolve()
	}
	switch {
	case a.Key == "" && a.Value.Kind() == slog.KindAny && a.Value.Any() == nil:
		return b
	case a.Value.Kind() == slog.KindGroup:
		if a.Key != "" {
			prefix += a.Key + "."
			groups = append(slices.Clip(groups), a.Key)
		}
		for _, ga := range a.Value.Group() {
			b = Append(b, prefix, ga, groups, replace, s)
		}
		return b
	case prefix == "" && s.Taken(a.Key):
		return b
	}
	return s.Param(b, prefix, a.Key, a.Value)
}

// Attrs is what WithAttrs and WithGroup give a handler that writes its
// attributes flat: those already written, and the groups now open.
type Attrs struct {
	Pre    []byte   // attributes from WithAttrs, written
	Groups []string // groups from WithGroup
	Prefix string   // groups joined by "." with a trailing "."
}

// With returns f with attrs written after the earlier ones.
func (f Attrs) With(attrs []slog.Attr, replace record.Replacer, s Sink) Attrs {
	f.Pre = slices.Clip(f.Pre)
	for _, a := range attrs {
		f.Pre = Append(f.Pre, f.Prefix, a, f.Groups, replace, s)
	}
	return f
}

// Group returns f with one more group open.
func (f Attrs) Group(name string) Attrs {
	f.Groups = append(slices.Clip(f.Groups), name)
	f.Prefix += name + "."
	return f
}

// AppendRecord appends the attributes from WithAttrs, then r's.
func (f *Attrs) AppendRecord(b []byte, r slog.Record, replace record.Replacer, s Sink) []byte {
	b = append(b, f.Pre...)
	r.Attrs(func(a slog.Attr) bool {
		b = Append(b, f.Prefix, a, f.Groups, replace, s)
		return true
	})
	return b
}

// Lines writes an attribute as a "name: value" line (an email body); a
// value that is empty, has a line break or a control character, or starts
// or ends with a space is Go-quoted.
type Lines struct{}

// Taken is false: every attribute is written.
func (Lines) Taken(string) bool { return false }

// Param appends "prefix.key: value\n".
func (Lines) Param(b []byte, prefix, key string, v slog.Value) []byte {
	b = append(append(append(b, prefix...), key...), ": "...)
	return append(record.AppendValue(Value{Mode: Line}, b, v), '\n')
}

// Value writes an attribute's value as text, in one of three modes; it is
// a record.Encoder, so values map as in the other codecs
// (record.AppendValue): durations in nanoseconds, times in RFC 3339.
type Value struct{ Mode Mode }

// Mode is how Value writes a string.
type Mode int

// The modes.
const (
	Text Mode = iota // key=value text: quoted if it has a space, quote, '=' or control character
	SD               // an RFC 5424 PARAM-VALUE: '"', '\' and ']' escaped
	Line             // "name: value" lines: quoted if empty, with a control character, or space at either end
)

func (Value) Begin(b []byte) []byte            { return b }
func (Value) End(b []byte) []byte              { return b }
func (Value) Key(b []byte, _ string) []byte    { return b }
func (Value) Open(b []byte) []byte             { return b }
func (Value) Close(b []byte) []byte            { return b }
func (Value) Null(b []byte) []byte             { return append(b, "null"...) }
func (Value) Int(b []byte, i int64) []byte     { return strconv.AppendInt(b, i, 10) }
func (Value) Uint(b []byte, u uint64) []byte   { return strconv.AppendUint(b, u, 10) }
func (Value) Bool(b []byte, v bool) []byte     { return strconv.AppendBool(b, v) }
func (Value) Float(b []byte, f float64) []byte { return strconv.AppendFloat(b, f, 'g', -1, 64) }
func (Value) Time(b []byte, t time.Time) []byte {
	return t.AppendFormat(b, time.RFC3339Nano)
}
func (v Value) Decimal(b []byte, n int64, scale int) []byte {
	return v.Float(b, float64(n)/math.Pow10(scale))
}

func (v Value) String(b []byte, s string) []byte {
	switch v.Mode {
	case SD:
		return syslog.AppendSDValue(b, s)
	case Line:
		if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
			return strconv.AppendQuote(b, s)
		}
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || v.Mode == Text && (r == ' ' || r == '"' || r == '=') {
			return strconv.AppendQuote(b, s)
		}
	}
	return append(b, s...)
}
