package smtp

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

// benchRecord is the root package's benchmark record: a message and five
// attributes.
func benchRecord() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "user logged in", 0)
	r.AddAttrs(slog.String("user", "alice"), slog.Int("id", 42), slog.Float64("ratio", 0.25),
		slog.Bool("admin", false), slog.Duration("elapsed", 1500*time.Millisecond))
	return r
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSMTPHandle measures what Handle costs the caller — it only
// enqueues — beside slog.JSONHandler to io.Discard. The records are below
// the trigger level, so the sender keeps them as context and sends
// nothing. The sender formats a record in about a microsecond, far slower
// than Handle enqueues it, so the timer stops while the queue drains after
// every half-queue: what is timed is enqueueing, and "dropped/op" shows
// that no record found the queue full.
func BenchmarkSMTPHandle(b *testing.B) {
	const queue = 1 << 12
	ctx := context.Background()
	b.Run("slog.JSONHandler", func(b *testing.B) {
		h := slog.NewJSONHandler(io.Discard, nil)
		r := benchRecord()
		b.ReportAllocs()
		for b.Loop() {
			h.Handle(ctx, r)
		}
		reportRate(b)
	})
	b.Run("netlog", func(b *testing.B) {
		h, err := NewHandler("127.0.0.1:25", &Options{
			From: "a@example.com", To: []string{"b@example.com"}, Security: Plaintext, Queue: queue,
		})
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			h.Close(ctx)
		}()
		r := benchRecord()
		r.Level = slog.LevelInfo
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if i%(queue/2) == queue/2-1 {
				b.StopTimer()
				for len(h.(*smtpHandler).m.q) > 0 {
					runtime.Gosched()
				}
				b.StartTimer()
			}
			h.Handle(ctx, r)
		}
		reportRate(b)
		b.ReportMetric(float64(h.Stats().Dropped.Total())/float64(b.N), "dropped/op")
	})
}
