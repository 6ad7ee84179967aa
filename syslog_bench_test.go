package netlog

import (
	"context"
	"runtime"
	"testing"
)

// BenchmarkSyslogFormat measures each syslog format alone (record →
// message, framing included) beside slog.JSONHandler to io.Discard.
func BenchmarkSyslogFormat(b *testing.B) {
	b.Run("slog.JSONHandler", benchJSONHandler)
	for _, f := range []SyslogFormat{RFC5424, RFC3164, PythonSyslog} {
		h, err := newSyslog("tcp", "127.0.0.1:9", &SyslogOptions{Format: f})
		if err != nil {
			b.Fatal(err)
		}
		r := benchRecord()
		b.Run(string(f), func(b *testing.B) {
			s := &state{}
			b.ReportAllocs()
			for b.Loop() {
				_, s.buf, s.scratch = h.encode(s, r)
			}
			reportRate(b)
		})
	}
}

// benchLine is what log/syslog is given: the benchmark record's message
// and attributes already formatted, so it pays for no formatting of its own.
const benchLine = "user logged in user=alice id=42 ratio=0.25 admin=false elapsed=1.5s"

// BenchmarkSyslogDelivery measures sync delivery of the same records to a
// loopback receiver by the syslog handler (RFC 5424) and by Go's log/syslog,
// over TCP and UDP: from one goroutine, and from 8 at once ("parallel"),
// as a server's requests log.
func BenchmarkSyslogDelivery(b *testing.B) {
	for _, network := range []string{"tcp", "udp"} {
		for _, parallel := range []bool{false, true} {
			name := network
			if parallel {
				name += "/parallel"
			}
			b.Run(name+"/netlog", func(b *testing.B) {
				h, err := NewSyslogHandler(network, sink(b, network), nil)
				if err != nil {
					b.Fatal(err)
				}
				defer h.Close(context.Background())
				r := benchRecord()
				benchLoop(b, parallel, func() error { return h.Handle(b.Context(), r) })
			})
			b.Run(name+"/log-syslog", func(b *testing.B) { benchGoSyslog(b, network, parallel) })
		}
	}
}

// benchLoop runs send b.N times, from 8 goroutines if parallel.
func benchLoop(b *testing.B, parallel bool, send func() error) {
	b.ReportAllocs()
	if !parallel {
		for b.Loop() {
			if err := send(); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b)
		return
	}
	b.SetParallelism(8 / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := send(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b)
}
