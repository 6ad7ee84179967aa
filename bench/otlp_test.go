package main

import (
	"context"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
	_ "github.com/netlog-go/netlog/otlp"
)

// BenchmarkOTLP sends the suite's record (a message and five attributes)
// b.N times to a real OpenTelemetry Collector over OTLP/HTTP, through
// netlog's otlp+http handler and through OpenTelemetry's own slog bridge
// (otelslog, the log SDK's batch processor, otlploghttp), each until its
// API says all are delivered, and counts what the Collector wrote.
//
//	cd bench && NETLOG_REQUIRE_PEERS=1 go test -run '^$' -bench OTLP -benchtime 200000x
func BenchmarkOTLP(b *testing.B) {
	b.Run("netlog", func(b *testing.B) {
		c := peer.StartCollector(b, peer.CollectorOptions{})
		h, err := netlog.Open("otlp+http://"+c.HTTP+"?async=true&name=bench", &netlog.Options{Async: async(true)})
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		cpu := cpuTime()
		if err := logN(h, b.N); err != nil {
			b.Fatal(err)
		}
		report(b, c, cpu)
	})
	b.Run("otel-sdk", func(b *testing.B) {
		c := peer.StartCollector(b, peer.CollectorOptions{})
		ctx := context.Background()
		exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(c.HTTP), otlploghttp.WithInsecure())
		if err != nil {
			b.Fatal(err)
		}
		// A queue as large as netlog's, so that neither drops.
		provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, sdklog.WithMaxQueueSize(1<<20))))
		b.ResetTimer()
		cpu := cpuTime()
		if err := handleN(otelslog.NewHandler("bench", otelslog.WithLoggerProvider(provider)), b.N); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := provider.Shutdown(ctx); err != nil { // flushes
			b.Fatal(err)
		}
		report(b, c, cpu)
	})
}

// cpuTime is the CPU time this process has used, user and system: the
// sender's, not the Collector's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report stops the timer, and reports the rate, the sender's CPU time
// per record since cpu, and what the Collector wrote.
func report(b *testing.B, c *peer.Collector, cpu time.Duration) {
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpuTime()-cpu)/1e3/float64(b.N), "cpu-µs/record")
	got := len(c.Logs(b, b.N, time.Minute))
	b.ReportMetric(float64(got), "collected")
	if got != b.N {
		b.Errorf("the Collector wrote %d of %d records", got, b.N)
	}
}
