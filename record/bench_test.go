package record_test

import (
	"log/slog"
	"testing"

	"github.com/netlog-go/netlog/internal/entrytest"
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
		{"flat", record.JSONFormat.AppendEntry(nil, entrytest.Typical())},
		{"group", record.JSONFormat.AppendEntry(nil, grouped)},
	} {
		b.Run(c.name+"/decode", func(b *testing.B) {
			entrytest.Bench(b, c.p, func() error { _, err := record.DecodeJSON(c.p); return err })
		})
		var e record.Entry
		b.Run(c.name+"/into", func(b *testing.B) {
			entrytest.Bench(b, c.p, func() error { return record.DecodeJSONInto(&e, c.p) })
		})
		b.Run(c.name+"/general", func(b *testing.B) {
			entrytest.Bench(b, c.p, func() error { _, err := record.DecodeJSONGeneral(c.p); return err })
		})
	}
}
