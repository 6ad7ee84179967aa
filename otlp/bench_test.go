package otlp_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
)

// BenchmarkCollector logs b.N records through an asynchronous otlp+http
// handler to a real Collector and waits until all are delivered (2xx):
// the whole path, Handle to the Collector's answer.
func BenchmarkCollector(b *testing.B) {
	c := peer.StartCollector(b, peer.CollectorOptions{})
	h, err := netlog.Open("otlp+http://"+c.HTTP+"?async=true&name=bench&buffer=1000000&buffer-bytes=1GiB&overflow=block", nil)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(h)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N { // not b.Loop: the timer runs on until Close has delivered
		log.Info("request served", "user", "ana", "n", i, "ratio", 0.5, "ok", true)
	}
	if err := h.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := h.Stats(); st.Written != uint64(b.N) {
		b.Fatalf("written %d of %d: %+v", st.Written, b.N, st)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
