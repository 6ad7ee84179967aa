package netlog_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/latency"
)

// BenchmarkAsyncHandleDown measures what an application feels while its
// collector is down: each Handle of an asynchronous handler, timed one by
// one, reported as p50/p99/p999 nanoseconds, beside slog.JSONHandler
// writing to io.Discard. The queue holds every record (the buffered
// case) or overflows after 4,096 (DropOldest: the outage outlasts it).
// bigBuffer is 4 GiB, or as near as an int holds on a 32-bit platform.
const bigBuffer = min(1<<32, math.MaxInt)

func BenchmarkAsyncHandleDown(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	for _, c := range []struct {
		name string
		make func() (slog.Handler, func())
	}{
		{"slog.JSONHandler-discard", func() (slog.Handler, func()) {
			return slog.NewJSONHandler(io.Discard, nil), func() {}
		}},
		{"netlog-socket-buffered", asyncDown("tcp", down, &netlog.Async{MaxRecords: 1 << 24, MaxBytes: bigBuffer})},
		{"netlog-socket-overflowing", asyncDown("tcp", down, &netlog.Async{MaxRecords: 4096, Overflow: netlog.DropOldest})},
		{"netlog-syslog-buffered", asyncDown("syslog", down, &netlog.Async{MaxRecords: 1 << 24, MaxBytes: bigBuffer})},
	} {
		b.Run(c.name, func(b *testing.B) {
			h, done := c.make()
			defer done()
			r := benchRecord()
			ctx := context.Background()
			var lat latency.Sampler
			lat.Grow(b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				h.Handle(ctx, r)
				lat.Add(time.Since(t0))
			}
			b.StopTimer()
			for _, q := range latency.Quantiles {
				b.ReportMetric(float64(lat.Quantile(q.Q)), q.Name+"-ns")
			}
			b.ReportMetric(float64(lat.Quantile(1)), "max-ns") // a queue that grows copies itself once per doubling
		})
	}
}

// BenchmarkAsyncHandleLive measures an asynchronous socket handler (TCP,
// pickle) while its destination, a loopback sink, is up: with the memory
// queue, and with the durable queue (Async.Dir) under each fsync policy
// and in memory-first mode. ns/op and records/s are per record delivered
// (the timer runs until Close has written the last one); handle-ns is the
// caller's mean Handle, and p50/p99/p999-ns its distribution, timed on
// about one call in 64 (internal/latency) so that the clock stays off
// the other calls. The queue holds every record: none may be dropped.
// The durable queue's directory is under $TMPDIR, which must be on a disk
// (not tmpfs) for the fsync rows to mean anything.
func BenchmarkAsyncHandleLive(b *testing.B) {
	all := netlog.Async{MaxRecords: 1 << 24, MaxBytes: bigBuffer}
	durable := func(fsync time.Duration, memoryFirst int) netlog.Async {
		a := all
		a.Dir, a.Fsync, a.MemoryFirst = "-", fsync, memoryFirst // "-": a fresh directory per run
		return a
	}
	for _, c := range []struct {
		name  string
		async netlog.Async
	}{
		{"netlog-socket-memory", all},
		{"netlog-socket-dir-fsync-batch", durable(0, 0)},
		{"netlog-socket-dir-fsync-10ms", durable(10*time.Millisecond, 0)},
		{"netlog-socket-dir-fsync-never", durable(netlog.FsyncNever, 0)},
		{"netlog-socket-dir-memory-first-16MiB", durable(0, 16<<20)},
	} {
		b.Run(c.name, func(b *testing.B) {
			a := c.async
			if a.Dir != "" {
				a.Dir = b.TempDir()
			}
			h, err := netlog.NewSocketHandler("tcp", netlog.Sink(b, "tcp"), &netlog.Options{Async: &a})
			if err != nil {
				b.Fatal(err)
			}
			r := benchRecord()
			ctx := context.Background()
			var lat latency.Sampler
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := lat.Handle(ctx, h, r); err != nil {
					b.Fatal(err)
				}
			}
			handled := b.Elapsed()
			closeCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
			defer cancel()
			if err := h.Close(closeCtx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if st := h.Stats(); st.Written != uint64(b.N) {
				b.Fatalf("%d of %d records written: %+v", st.Written, b.N, st)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(handled)/float64(b.N), "handle-ns")
			for _, q := range latency.Quantiles {
				b.ReportMetric(float64(lat.Quantile(q.Q)), q.Name+"-ns")
			}
		})
	}
}

// asyncDown makes an asynchronous handler whose destination is down; its
// Close gives up at once.
func asyncDown(kind, addr string, a *netlog.Async) func() (slog.Handler, func()) {
	return func() (slog.Handler, func()) {
		o := netlog.Options{Async: a, Backoff: netlog.Backoff{Initial: time.Hour, Max: time.Hour}}
		var h netlog.Handler
		var err error
		if kind == "syslog" {
			h, err = netlog.NewSyslogHandler("tcp", addr, &netlog.SyslogOptions{Options: o})
		} else {
			h, err = netlog.NewSocketHandler("tcp", addr, &o)
		}
		if err != nil {
			panic(err)
		}
		return h, func() {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			h.Close(ctx)
		}
	}
}

// benchRecord is a message and five attributes.
func benchRecord() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "user logged in", 0)
	r.AddAttrs(slog.String("user", "alice"), slog.Int("id", 42), slog.Bool("ok", true),
		slog.Duration("latency", 1500*time.Microsecond), slog.String("path", "/api/v1/login"))
	return r
}
