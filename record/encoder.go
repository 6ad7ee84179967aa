package record

import (
	"fmt"
	"log/slog"
	"time"
)

// Encoder appends a record in one wire format to a byte slice, one piece at
// a time, so that a handler can preformat attributes (WithAttrs) and write a
// record without building it first. A record is Begin, then pairs of Key
// and a value (a scalar, or Open … Close around nested pairs), then End.
// Implementations write no separators that depend on what came before, so
// any run of pairs may be appended anywhere a pair may stand.
type Encoder interface {
	Begin(b []byte) []byte
	End(b []byte) []byte
	Key(b []byte, k string) []byte
	Open(b []byte) []byte
	Close(b []byte) []byte
	String(b []byte, s string) []byte
	Int(b []byte, i int64) []byte
	Uint(b []byte, u uint64) []byte
	Float(b []byte, f float64) []byte
	Bool(b []byte, v bool) []byte
	Time(b []byte, t time.Time) []byte
	Null(b []byte) []byte
}

// Replacer is slog.HandlerOptions.ReplaceAttr.
type Replacer = func(groups []string, a slog.Attr) slog.Attr

// AppendHead appends the start of a record and the standard fields of e
// (not its Attrs). A field Python would hold as None is written as null; the
// optional fields (created, exc_text, stack_info, taskName) only when set.
func AppendHead(enc Encoder, b []byte, e *Entry) []byte {
	b = enc.Begin(b)
	b = enc.String(enc.Key(b, FieldName), e.Name)
	b = enc.String(enc.Key(b, FieldMsg), e.Msg)
	b = enc.Null(enc.Key(b, FieldArgs))
	b = enc.String(enc.Key(b, FieldLevelName), e.LevelName)
	b = enc.Int(enc.Key(b, FieldLevelNo), int64(e.LevelNo))
	b = enc.String(enc.Key(b, FieldPathname), e.Pathname)
	b = enc.String(enc.Key(b, FieldFilename), e.Filename)
	b = enc.String(enc.Key(b, FieldModule), e.Module)
	b = enc.Null(enc.Key(b, FieldExcInfo))
	b = enc.Int(enc.Key(b, FieldLineno), int64(e.Lineno))
	b = enc.String(enc.Key(b, FieldFuncName), e.FuncName)
	if !e.Created.IsZero() {
		ns := e.Created.UnixNano()
		b = enc.Float(enc.Key(b, FieldCreated), float64(ns)/1e9)
		b = enc.Float(enc.Key(b, FieldMsecs), float64(ns%1e9)/1e6)
		b = enc.Float(enc.Key(b, FieldRelative), e.Relative)
	}
	b = enc.Key(b, FieldThread)
	if e.Thread != 0 {
		b = enc.Int(b, e.Thread)
	} else {
		b = enc.Null(b)
	}
	b = appendOptional(enc, enc.Key(b, FieldThreadName), e.ThreadName)
	b = appendOptional(enc, enc.Key(b, FieldProcessName), e.ProcessName)
	b = enc.Int(enc.Key(b, FieldProcess), int64(e.Process))
	for _, f := range [...]struct{ k, v string }{
		{FieldTaskName, e.TaskName}, {FieldExcText, e.ExcText}, {FieldStackInfo, e.StackInfo},
	} {
		if f.v != "" {
			b = enc.String(enc.Key(b, f.k), f.v)
		}
	}
	return b
}

func appendOptional(enc Encoder, b []byte, s string) []byte {
	if s == "" {
		return enc.Null(b)
	}
	return enc.String(b, s)
}

// AppendEntry appends the whole of e: head, attributes, end.
func AppendEntry(enc Encoder, b []byte, e *Entry) []byte {
	b = AppendHead(enc, b, e)
	for _, a := range e.Attrs {
		b = AppendAttr(enc, b, a, true, nil, nil)
	}
	return enc.End(b)
}

// AppendAttr appends one attribute following slog's rules: the value is
// resolved, replace (if not nil) rewrites every non-group attribute, an empty
// attribute is skipped, a group with an empty key is inlined, a group that
// ends up empty is left out. top says the attribute is not inside a group:
// its key then passes through AttrKey. groups is the group path handed to
// replace.
func AppendAttr(enc Encoder, b []byte, a slog.Attr, top bool, groups []string, replace Replacer) []byte {
	a.Value = a.Value.Resolve()
	if replace != nil && a.Value.Kind() != slog.KindGroup {
		a = replace(groups, a)
		a.Value = a.Value.Resolve()
	}
	if a.Key == "" && a.Value.Kind() == slog.KindAny && a.Value.Any() == nil {
		return b
	}
	key := a.Key
	if top {
		key = AttrKey(key)
	}
	if a.Value.Kind() != slog.KindGroup {
		return AppendValue(enc, enc.Key(b, key), a.Value)
	}
	attrs := a.Value.Group()
	if a.Key == "" {
		for _, ga := range attrs {
			b = AppendAttr(enc, b, ga, top, groups, replace)
		}
		return b
	}
	if replace != nil {
		groups = append(groups[:len(groups):len(groups)], a.Key)
	}
	mark := len(b)
	b = enc.Open(enc.Key(b, key))
	opened := len(b)
	for _, ga := range attrs {
		b = AppendAttr(enc, b, ga, false, groups, replace)
	}
	if len(b) == opened {
		return b[:mark]
	}
	return enc.Close(b)
}

// AppendValue appends a resolved non-group value. Durations are written as
// integer nanoseconds (as slog.JSONHandler does), times as RFC 3339 text,
// errors as their message, and any other value as its fmt.Sprint text, so
// that nothing a receiver decodes is more than plain data.
func AppendValue(enc Encoder, b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return enc.String(b, v.String())
	case slog.KindInt64:
		return enc.Int(b, v.Int64())
	case slog.KindUint64:
		return enc.Uint(b, v.Uint64())
	case slog.KindFloat64:
		return enc.Float(b, v.Float64())
	case slog.KindBool:
		return enc.Bool(b, v.Bool())
	case slog.KindDuration:
		return enc.Int(b, int64(v.Duration()))
	case slog.KindTime:
		return enc.Time(b, v.Time())
	}
	switch x := v.Any().(type) {
	case nil:
		return enc.Null(b)
	case error:
		return enc.String(b, x.Error())
	case []byte:
		return enc.String(b, string(x))
	default:
		return enc.String(b, fmt.Sprint(x))
	}
}
