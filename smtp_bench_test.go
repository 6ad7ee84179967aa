package netlog

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

// BenchmarkSMTPHandle measures what Handle costs the caller — it only
// enqueues — beside slog.JSONHandler to io.Discard. The records are below
// the trigger level, so the sender keeps them as context and sends
// nothing. The sender formats a record in about a microsecond, far slower
// than Handle enqueues it, so the timer stops while the queue drains after
// every half-queue: what is timed is enqueueing, and "dropped/op" shows
// that no record found the queue full.
func BenchmarkSMTPHandle(b *testing.B) {
	const queue = 1 << 12
	b.Run("slog.JSONHandler", benchJSONHandler)
	b.Run("netlog", func(b *testing.B) {
		h, err := NewSMTPHandler("127.0.0.1:25", &SMTPOptions{
			From: "a@example.com", To: []string{"b@example.com"}, Security: Plaintext, Queue: queue,
		})
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			h.Close(ctx)
		}()
		r := benchRecord()
		r.Level = slog.LevelInfo
		ctx := context.Background()
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
