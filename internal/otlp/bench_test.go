package otlp

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
)

// benchFrames is a batch of n records as a Go program's handler frames
// them: a message and four attributes, then group (say, a group of two
// attributes, which the general JSON reader decodes, not the fast path).
func benchFrames(n int, group string) ([]byte, []int) {
	var b []byte
	var ends []int
	for i := range n {
		b = append(b, frame(`{"name":"bench","args":null,"exc_info":null,"thread":null,"threadName":null,`+
			`"processName":"bench","process":4242,"pathname":"(unknown file)","filename":"(unknown file)",`+
			`"module":"(unknown file)","lineno":0,"funcName":"(unknown function)","msg":"request served",`+
			`"levelname":"INFO","levelno":20,"created":1700000000.123456789,"msecs":123.456789,"relativeCreated":75.0,`+
			`"user":"ana","n":`+strconv.Itoa(i)+`,"ratio":0.5,"ok":true`+group+`}`)...)
		ends = append(ends, len(b))
	}
	return b, ends
}

// BenchmarkRequest maps a batch of 256 frames to one export request:
// the Sender's work per batch, reported per record.
func BenchmarkRequest(b *testing.B) {
	const batch = 256
	for _, bc := range []struct{ name, group string }{{"flat", ""}, {"group", `,"http":{"status":200,"path":"/x"}`}} {
		b.Run(bc.name, func(b *testing.B) {
			buf, ends := benchFrames(batch, bc.group)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				Request(buf, ends, "", 1)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*batch), "ns/record")
			b.ReportMetric(float64(testing.AllocsPerRun(1, func() { Request(buf, ends, "", 1) }))/batch, "allocs/record")
		})
	}
}

// BenchmarkCollector posts batches of 256 records to a real Collector
// (one request each, answered 2xx once its pipeline took them).
func BenchmarkCollector(b *testing.B) {
	const batch = 256
	c := peer.StartCollector(b, peer.CollectorOptions{})
	s, err := New(Config{URL: "http://" + c.HTTP + "/v1/logs", WriteTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	buf, ends := benchFrames(batch, "")
	b.ResetTimer()
	for b.Loop() {
		if n, err := s.WriteFrames(context.Background(), buf, ends); err != nil || n != batch {
			b.Fatalf("WriteFrames = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
}
