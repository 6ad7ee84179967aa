package receive_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"github.com/netlog-go/netlog/receive"
)

// lineCounter is an output that counts the lines written to it.
type lineCounter struct{ n atomic.Int64 }

func (c *lineCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' {
			c.n.Add(1)
		}
	}
	return len(p), nil
}

// BenchmarkServeSyslogStream is the receive path end to end: b.N RFC
// 5424 messages of about 200 bytes, octet-counted, over one loopback
// connection into a Printer; ns/op is per record.
func BenchmarkServeSyslogStream(b *testing.B) {
	var in []byte
	for i := range 1000 {
		m := fmt.Sprintf(`<165>1 2026-12-01T04:30:00.000001Z host1.example.com benchapp 4242 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1001"] user alice logged in from 192.0.2.%d path=/api/v1/login latency=1.5ms ok=true`, i%256)
		in = fmt.Appendf(in, "%d %s", len(m), m)
	}
	out := &lineCounter{}
	srv := &receive.Server{Sink: &receive.Printer{W: out}, OnRefuse: func(r receive.Report) { b.Error(r) }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.ServeSyslogStream(ctx, ln) }()
	defer func() { cancel(); <-done }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += 1000 {
		if _, err := c.Write(in); err != nil {
			b.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c) // the server's close: everything is written
	c.Close()
	b.StopTimer()
	if got, want := out.n.Load(), int64((b.N+999)/1000*1000); got != want {
		b.Fatalf("%d lines written, want %d", got, want)
	}
}
