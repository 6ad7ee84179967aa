package kafka_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
)

// BenchmarkHandler produces records through the kafka:// handler to the
// kfake broker on loopback and waits for Kafka's acknowledgment of the
// last: records/s is end to end, acknowledged; allocs/op are those of
// the whole path per record (Handle, queue, producer).
func BenchmarkHandler(b *testing.B) {
	k := peer.StartKafka(b, "bench")
	for _, c := range []struct{ name, query string }{
		{"async", "overflow=block&block-timeout=60s"}, // a full queue waits: nothing dropped
		{"async-zstd", "overflow=block&block-timeout=60s&compression=zstd"},
		{"async-key-name", "overflow=block&block-timeout=60s&key=name"},
		{"sync", "async=false"},
	} {
		b.Run(c.name, func(b *testing.B) {
			h, err := netlog.Open("kafka://"+k.Addr+"/bench-"+c.name+"?name=bench&"+c.query, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close(context.Background())
			logger := slog.New(h)
			logger.Info("warm-up") // connect, create the topic
			flushB(b, h)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				logger.Info("request served", "path", "/api/v1/items", "status", 200, "i", i)
			}
			flushB(b, h)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if st := h.Stats(); st.Dropped.Total() != 0 || st.Failed != 0 {
				b.Fatalf("stats %+v", st)
			}
		})
	}
}

func flushB(b *testing.B, h netlog.Handler) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}
