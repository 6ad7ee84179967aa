//go:build !windows && !plan9

package netlog

import (
	gosyslog "log/syslog"
	"testing"
)

// benchGoSyslog is BenchmarkSyslogDelivery's baseline: Go's log/syslog
// (which Windows and Plan 9 lack) to the same sink.
func benchGoSyslog(b *testing.B, network string, parallel bool) {
	w, err := gosyslog.Dial(network, sink(b, network), gosyslog.LOG_INFO|gosyslog.LOG_USER, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	benchLoop(b, parallel, func() error { return w.Info(benchLine) })
}
