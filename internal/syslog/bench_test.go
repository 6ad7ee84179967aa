package syslog

import (
	"testing"

	gosyslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// benchMsg is an RFC 5424 message with structured data, 185 bytes.
var benchMsg = []byte(`<165>1 2026-12-01T02:43:05.622057+01:00 web01.example.com checkout 4711 ORDER [req@32473 id="8c1f" user="alice" ms="12"][origin ip="192.0.2.7"] order 1234 paid, 3 items, total 99.50 EUR`)

// BenchmarkParse compares Parse with go-syslog's RFC 5424 parser (strict
// and best-effort, as Parse used it before) on the same message;
// netlog-into parses into one Message again and again, as the receiver
// does.
func BenchmarkParse(b *testing.B) {
	b.Run("netlog", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchMsg)))
		for b.Loop() {
			if _, err := Parse(benchMsg); err != nil {
				b.Fatal(err)
			}
		}
	})
	var m Message
	b.Run("netlog-into", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchMsg)))
		for b.Loop() {
			if _, err := m.Parse(benchMsg); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		opts []gosyslog.MachineOption
	}{{"go-syslog", nil}, {"go-syslog-best-effort", []gosyslog.MachineOption{rfc5424.WithBestEffort()}}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(benchMsg)))
			for b.Loop() {
				if _, err := rfc5424.NewParser(c.opts...).Parse(benchMsg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// bench3164 is a legacy message as rsyslog's RSYSLOG_TraditionalForwardFormat
// and logger --rfc3164 send it, 96 bytes.
var bench3164 = []byte("<30>Dec  1 02:43:05 web01.example.com sshd[4711]: Accepted publickey for alice from 192.0.2.7")

// BenchmarkParse3164 compares Parse on a legacy message with go-syslog's
// RFC 3164 parser in best-effort mode, the reader Parse used before.
func BenchmarkParse3164(b *testing.B) {
	b.Run("netlog", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(bench3164)))
		for b.Loop() {
			if e, err := Parse(bench3164); err != nil || e.Syslog.ProcID != "4711" {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-syslog-best-effort", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(bench3164)))
		for b.Loop() {
			if _, err := rfc3164.NewParser(rfc3164.WithBestEffort(), rfc3164.WithYear(rfc3164.CurrentYear{})).Parse(bench3164); err != nil {
				b.Fatal(err)
			}
		}
	})
}
