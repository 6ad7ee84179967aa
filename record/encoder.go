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
	// Decimal writes the number n·10^-scale (0 ≤ scale ≤ 9), as the
	// timestamps in nanoseconds become Python's float seconds and
	// milliseconds: exact decimal text where the format has it.
	Decimal(b []byte, n int64, scale int) []byte
	Bool(b []byte, v bool) []byte
	Time(b []byte, t time.Time) []byte
	Null(b []byte) []byte
}

// Replacer is slog.HandlerOptions.ReplaceAttr.
type Replacer = func(groups []string, a slog.Attr) slog.Attr

// Format is an Encoder with the keys of the standard fields encoded once,
// so that writing a record's head copies them instead of encoding them
// again for every record.
type Format struct {
	Enc  Encoder
	keys [len(headKeys)][]byte
}

// headKeys are the standard fields in the order AppendHead writes them:
// first those that are the same for every record of a logger in a process
// (AppendIdentity), then the source (AppendSource), then the rest
// (AppendEvent).
var headKeys = [...]string{
	FieldName, FieldArgs, FieldExcInfo, FieldThread, FieldThreadName,
	FieldProcessName, FieldProcess,
	FieldPathname, FieldFilename, FieldModule, FieldLineno, FieldFuncName,
	FieldMsg, FieldLevelName, FieldLevelNo, FieldCreated, FieldMsecs, FieldRelative,
	FieldTaskName, FieldExcText, FieldStackInfo,
}

// NewFormat returns enc with its standard keys encoded.
func NewFormat(enc Encoder) *Format {
	f := &Format{Enc: enc}
	for i, k := range headKeys {
		f.keys[i] = enc.Key(nil, k)
	}
	return f
}

// AppendHead appends the start of a record and the standard fields of e
// (not its Attrs). A field Python would hold as None is written as null; the
// optional fields (created, exc_text, stack_info, taskName) only when set.
func (f *Format) AppendHead(b []byte, e *Entry) []byte {
	b = f.Enc.Begin(b)
	b = f.AppendIdentity(b, e)
	b = f.AppendSource(b, e)
	return f.AppendEvent(b, e)
}

// AppendIdentity appends the fields that name the sender: name, thread,
// process, and args and exc_info (always None). A handler encodes them
// once.
func (f *Format) AppendIdentity(b []byte, e *Entry) []byte {
	enc, k := f.Enc, &f.keys
	b = enc.String(append(b, k[0]...), e.Name)
	b = enc.Null(append(b, k[1]...))
	b = enc.Null(append(b, k[2]...))
	b = append(b, k[3]...)
	if e.Thread != 0 {
		b = enc.Int(b, e.Thread)
	} else {
		b = enc.Null(b)
	}
	b = appendOptional(enc, append(b, k[4]...), e.ThreadName)
	b = appendOptional(enc, append(b, k[5]...), e.ProcessName)
	return enc.Int(append(b, k[6]...), int64(e.Process))
}

// AppendSource appends pathname, filename, module, lineno and funcName.
func (f *Format) AppendSource(b []byte, e *Entry) []byte {
	enc, k := f.Enc, &f.keys
	b = enc.String(append(b, k[7]...), e.Pathname)
	b = enc.String(append(b, k[8]...), e.Filename)
	b = enc.String(append(b, k[9]...), e.Module)
	b = enc.Int(append(b, k[10]...), int64(e.Lineno))
	return enc.String(append(b, k[11]...), e.FuncName)
}

// AppendEvent appends the fields that differ from record to record.
func (f *Format) AppendEvent(b []byte, e *Entry) []byte {
	enc, k := f.Enc, &f.keys
	b = enc.String(append(b, k[12]...), e.Msg)
	b = enc.String(append(b, k[13]...), e.LevelName)
	b = enc.Int(append(b, k[14]...), int64(e.LevelNo))
	if !e.Created.IsZero() {
		ns := e.Created.UnixNano()
		b = enc.Decimal(append(b, k[15]...), ns, 9)
		b = enc.Decimal(append(b, k[16]...), ns%1e9, 6)
		b = enc.Decimal(append(b, k[17]...), int64(e.Relative), 6)
	}
	for i, v := range [...]string{e.TaskName, e.ExcText, e.StackInfo} {
		if v != "" {
			b = enc.String(append(b, k[18+i]...), v)
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
func (f *Format) AppendEntry(b []byte, e *Entry) []byte {
	return f.Enc.End(f.AppendBody(b, e))
}

// AppendBody appends e's head and attributes, leaving the record open for
// more pairs and Enc.End.
func (f *Format) AppendBody(b []byte, e *Entry) []byte {
	b = f.AppendHead(b, e)
	for _, a := range e.Attrs {
		b = AppendAttr(f.Enc, b, a, true, nil, nil)
	}
	return b
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
