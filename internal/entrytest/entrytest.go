// Package entrytest compares record Entries and checks decoders in tests.
package entrytest

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/record"
)

// Canon prints every field of e and each attribute's key, kind and value
// (groups recursively), so that two Entries compare equal as text whatever
// the memory of their strings, and an empty Attrs equals a nil one.
func Canon(e *record.Entry) string {
	c := *e
	c.Attrs = nil
	var b strings.Builder
	fmt.Fprintf(&b, "%+v created=%d", c, c.Created.UnixNano())
	if c.Syslog != nil {
		fmt.Fprintf(&b, " syslog=%+v", *c.Syslog)
	}
	attrs(&b, e.Attrs, "\n")
	return b.String()
}

func attrs(b *strings.Builder, as []slog.Attr, indent string) {
	for _, a := range as {
		if a.Value.Kind() == slog.KindGroup {
			fmt.Fprintf(b, "%s%q group", indent, a.Key)
			attrs(b, a.Value.Group(), indent+"  ")
			continue
		}
		fmt.Fprintf(b, "%s%q %v ", indent, a.Key, a.Value.Kind())
		value(b, a.Value.Any(), indent+"  ")
	}
}

// value prints v as %#v does, but a list's items, and a dict's
// attributes (a list's item), each in turn: %#v would print a group
// nested in them by its pointer, different in every decoding.
func value(b *strings.Builder, v any, indent string) {
	switch v := v.(type) {
	case []any:
		b.WriteString("[]any{")
		for _, item := range v {
			value(b, item, indent)
			b.WriteString(", ")
		}
		b.WriteString("}")
	case []slog.Attr:
		b.WriteString("[]slog.Attr{")
		attrs(b, v, indent)
		b.WriteString("}")
	default:
		fmt.Fprintf(b, "%#v", v)
	}
}

// Typical is a record as a Go program logs it through netlog: the
// standard fields and a few scalar attributes (the decoders' fast path).
func Typical() *record.Entry {
	return &record.Entry{
		Name: "app", Msg: "user alice logged in from 192.0.2.7", LevelNo: 20, LevelName: "INFO",
		Created: time.Date(2026, 12, 1, 2, 43, 5, 622057000, time.UTC), Relative: 1500 * time.Microsecond,
		Pathname: "/src/app/login.go", Filename: "login.go", Module: "login", Lineno: 42,
		FuncName: "main.login", Process: 4711,
		Attrs: []slog.Attr{slog.String("user", "alice"), slog.Int("id", 7), slog.Float64("latency", 0.0015), slog.Bool("ok", true)},
	}
}

// Decoders are the ways a package decodes a payload: the whole decoder
// into a new Entry and into a used one, its fast path alone (nil where it
// gives up) and its general decoder alone.
type Decoders struct {
	Decode  func(p []byte) (*record.Entry, error)
	Into    func(e *record.Entry, p []byte) error
	Fast    func(p []byte) *record.Entry
	General func(p []byte) (*record.Entry, error)
}

// Agree checks that where the fast path takes p, the general decoder
// takes it too and makes the same Entry, and that Decode and Into (into
// a used Entry) make it as well, or fail as the general decoder does. It
// reports whether the fast path took p.
func (d Decoders) Agree(t testing.TB, p []byte) (fast bool) {
	t.Helper()
	general, gerr := d.General(p)
	e, err := d.Decode(p)
	if (err == nil) != (gerr == nil) || (err != nil && err.Error() != gerr.Error()) {
		t.Fatalf("Decode: %v, general: %v", err, gerr)
	}
	used := &record.Entry{Name: "old", Attrs: []slog.Attr{slog.String("old", "x"), slog.Int("n", 1)}}
	if intoErr := d.Into(used, p); (intoErr == nil) != (err == nil) {
		t.Fatalf("Into: %v, Decode: %v", intoErr, err)
	}
	if err == nil && (Canon(e) != Canon(general) || Canon(used) != Canon(general)) {
		t.Fatalf("Decode:\n%s\nInto:\n%s\ngeneral:\n%s", Canon(e), Canon(used), Canon(general))
	}
	f := d.Fast(p)
	if f == nil {
		return false
	}
	if gerr != nil {
		t.Fatalf("the fast path takes what the general decoder refuses (%v):\n%s", gerr, Canon(f))
	}
	if Canon(f) != Canon(general) {
		t.Fatalf("fast path:\n%s\ngeneral:\n%s", Canon(f), Canon(general))
	}
	return true
}

// Bench runs decode, which decodes p, as a benchmark of p's bytes.
func Bench(b *testing.B, p []byte, decode func() error) {
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if err := decode(); err != nil {
			b.Fatal(err)
		}
	}
}
