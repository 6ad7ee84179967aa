package record_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/netlog-go/netlog/record"
)

// BenchmarkDecodeJSON decodes a record in the JSON wire form: a flat one
// (the fast path; "into" reuses one Entry, as a receiver that pools them
// does; "general" is the general reader alone) and one with a group.
func BenchmarkDecodeJSON(b *testing.B) {
	grouped := flatJSONEntry()
	grouped.Attrs = append(grouped.Attrs, slog.Group("g", slog.Int("a", 1), slog.String("b", "c")))
	for _, c := range []struct {
		name string
		p    []byte
	}{
		{"flat", record.JSONFormat.AppendEntry(nil, typicalJSONEntry())},
		{"group", record.JSONFormat.AppendEntry(nil, grouped)},
	} {
		b.Run(c.name+"/decode", func(b *testing.B) {
			bench(b, c.p, func() error { _, err := record.DecodeJSON(c.p); return err })
		})
		var e record.Entry
		b.Run(c.name+"/into", func(b *testing.B) {
			bench(b, c.p, func() error { return record.DecodeJSONInto(&e, c.p) })
		})
		b.Run(c.name+"/general", func(b *testing.B) {
			bench(b, c.p, func() error { _, err := record.DecodeJSONGeneral(c.p); return err })
		})
	}
}

// typicalJSONEntry is a one-line record with a few scalar attributes.
func typicalJSONEntry() *record.Entry {
	return &record.Entry{
		Name: "app", Msg: "user alice logged in from 192.0.2.7", LevelNo: 20, LevelName: "INFO",
		Created: time.Date(2026, 12, 1, 2, 43, 5, 622057000, time.UTC), Relative: 1500 * time.Microsecond,
		Pathname: "/src/app/login.go", Filename: "login.go", Module: "login", Lineno: 42,
		FuncName: "main.login", Process: 4711,
		Attrs: []slog.Attr{slog.String("user", "alice"), slog.Int("id", 7), slog.Float64("latency", 0.0015), slog.Bool("ok", true)},
	}
}

func bench(b *testing.B, p []byte, decode func() error) {
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if err := decode(); err != nil {
			b.Fatal(err)
		}
	}
}
