package record_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/record"
)

// BenchmarkDecodeJSON decodes a typical record in the JSON wire form.
func BenchmarkDecodeJSON(b *testing.B) {
	p := record.JSONFormat.AppendEntry(nil, &record.Entry{
		Name: "app", Msg: "héllo ✓", LevelNo: 30, LevelName: "WARNING",
		Created: time.Date(2026, 11, 24, 5, 0, 0, 123456000, time.UTC), Pathname: "/src/app/main.go",
		Lineno: 42, FuncName: "main.run", Process: 1234,
		Attrs: []slog.Attr{slog.String("s", "ünïcode"), slog.Int("n", 40000), slog.Float64("f", 0.25),
			slog.String("long", strings.Repeat("x", 300)), slog.Group("g", slog.Int("a", 1), slog.String("b", "c"))},
	})
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := record.DecodeJSON(p); err != nil {
			b.Fatal(err)
		}
	}
}
