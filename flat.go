package netlog

import (
	"log/slog"
	"slices"

	"github.com/netlog-go/netlog/record"
)

// flatSink writes attributes as flat dotted names: the syslog handler's
// structured data and text, the SMTP handler's email body.
type flatSink interface {
	// param appends one attribute named prefix+key.
	param(b []byte, prefix, key string, v slog.Value) []byte
	// taken reports whether a top-level attribute is used elsewhere (the
	// syslog MSGID) instead of being written.
	taken(key string) bool
}

// appendFlat appends a following slog's rules (resolve, ReplaceAttr with
// the group path, skip empty attributes, inline groups with an empty key),
// its groups flattened into a dotted prefix.
func appendFlat(b []byte, prefix string, a slog.Attr, groups []string, replace record.Replacer, s flatSink) []byte {
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
			b = appendFlat(b, prefix, ga, groups, replace, s)
		}
		return b
	case prefix == "" && s.taken(a.Key):
		return b
	}
	return s.param(b, prefix, a.Key, a.Value)
}

// flatAttrs is what WithAttrs and WithGroup give a handler that writes its
// attributes flat: those already written, and the groups now open.
type flatAttrs struct {
	pre    []byte   // attributes from WithAttrs, written
	groups []string // groups from WithGroup
	prefix string   // groups joined by "." with a trailing "."
}

// withAttrs returns f with attrs written after the earlier ones.
func (f flatAttrs) withAttrs(attrs []slog.Attr, replace record.Replacer, s flatSink) flatAttrs {
	f.pre = slices.Clip(f.pre)
	for _, a := range attrs {
		f.pre = appendFlat(f.pre, f.prefix, a, f.groups, replace, s)
	}
	return f
}

// withGroup returns f with one more group open.
func (f flatAttrs) withGroup(name string) flatAttrs {
	f.groups = append(slices.Clip(f.groups), name)
	f.prefix += name + "."
	return f
}

// appendRecord appends the attributes from WithAttrs, then r's.
func (f *flatAttrs) appendRecord(b []byte, r slog.Record, replace record.Replacer, s flatSink) []byte {
	b = append(b, f.pre...)
	r.Attrs(func(a slog.Attr) bool {
		b = appendFlat(b, f.prefix, a, f.groups, replace, s)
		return true
	})
	return b
}
