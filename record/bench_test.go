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

// nestedJSON is a relayed RFC 5424 syslog record: its structured data is
// an object of objects, as netlog serve writes it to a Kafka or OTLP
// output's queue.
const nestedJSON = `{"name":"app","args":null,"exc_info":null,"thread":null,"threadName":null,"processName":null,"process":42,"pathname":"","filename":"","module":"","lineno":0,"funcName":"","msg":"user alice logged in","levelname":"Level 25","levelno":25,"created":1796099400.000001000,"msecs":0.001000,"relativeCreated":0.000000,"syslog_format":"rfc5424","facility":"local4","severity":"notice","hostname":"host1","appname":"app","procid":"42","msgid":"ID47","structured_data":{"exampleSDID@32473":{"iut":"3","eventSource":"Application","eventID":"1001"}},"peer":"127.0.0.1:51870","listener":"tcp 127.0.0.1:36999"}`

// BenchmarkDecodeJSONNested decodes nestedJSON into one reused Entry, as
// the Kafka and OTLP senders do.
func BenchmarkDecodeJSONNested(b *testing.B) {
	p := []byte(nestedJSON)
	var e record.Entry
	entrytest.Bench(b, p, func() error { return record.DecodeJSONInto(&e, p) })
}
