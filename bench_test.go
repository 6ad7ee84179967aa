package netlog

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
)

// The benchmark record: a message and five attributes.
func benchRecord() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "user logged in", 0)
	r.AddAttrs(slog.String("user", "alice"), slog.Int("id", 42), slog.Float64("ratio", 0.25),
		slog.Bool("admin", false), slog.Duration("elapsed", 1500*time.Millisecond))
	return r
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// benchJSONHandler is the peer every benchmark here is read against:
// slog's own JSON handler writing the same record to io.Discard.
func benchJSONHandler(b *testing.B) {
	h := slog.NewJSONHandler(io.Discard, nil)
	r := benchRecord()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h.Handle(ctx, r)
	}
	reportRate(b)
}

// discardConn is a connection that accepts every write, so that Handle is
// measured without a system call. Like a quiet peer, it blocks a Read
// until it is closed.
type discardConn struct {
	net.Conn
	closed chan struct{}
	once   sync.Once
}

func newDiscardConn() *discardConn { return &discardConn{closed: make(chan struct{})} }

func (*discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (*discardConn) SetWriteDeadline(time.Time) error { return nil }
func (c *discardConn) Read([]byte) (int, error)       { <-c.closed; return 0, io.EOF }
func (c *discardConn) Close() error                   { c.once.Do(func() { close(c.closed) }); return nil }

// BenchmarkEncode measures each encoder alone (the record to a frame) and
// Handle to a discarding connection, beside slog.JSONHandler to io.Discard.
func BenchmarkEncode(b *testing.B) {
	b.Run("slog.JSONHandler", benchJSONHandler)
	for _, codec := range []Codec{CodecPickle, CodecJSON} {
		h, err := newHandler("tcp", "127.0.0.1:9", &Options{Codec: codec}, true)
		if err != nil {
			b.Fatal(err)
		}
		h.c.link, err = transport.NewLink(transport.Config{
			Dial:   func(context.Context) (net.Conn, error) { return newDiscardConn(), nil },
			Stream: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close(context.Background())
		r := benchRecord()
		b.Run(string(codec)+"/encode", func(b *testing.B) {
			s := &state{}
			b.ReportAllocs()
			for b.Loop() {
				s.buf = h.encode(s, r)
			}
			reportRate(b)
		})
		b.Run(string(codec)+"/Handle", func(b *testing.B) { benchHandle(b, h) })
	}
}

// benchHandle measures Handle of the benchmark record.
func benchHandle(b *testing.B, h Handler) {
	r := benchRecord()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := h.Handle(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// handlerFor returns the handler for network: the socket handler for a
// stream network, the datagram handler otherwise.
func handlerFor(b *testing.B, network, addr string) *socketHandler {
	h, err := newHandler(network, addr, nil, network != "udp" && network != "unixgram")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// sink listens on network and discards everything it receives.
func sink(b *testing.B, network string) string {
	addr := "127.0.0.1:0"
	if network == "unix" || network == "unixgram" {
		addr = filepath.Join(b.TempDir(), "sink.sock")
	}
	if network == "udp" || network == "unixgram" {
		pc, err := net.ListenPacket(network, addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 1<<16)
			for {
				if _, _, err := pc.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
		return pc.LocalAddr().String()
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkLoopback measures Handle of each handler to a loopback receiver
// beside the physical limit: a bare net.Conn.Write of the same frame, one
// write per record, to the same kind of receiver.
func BenchmarkLoopback(b *testing.B) {
	b.Run("slog.JSONHandler", benchJSONHandler)
	for _, network := range []string{"tcp", "unix", "udp", "unixgram"} {
		b.Run(network+"/netlog", func(b *testing.B) {
			benchHandle(b, handlerFor(b, network, sink(b, network)))
		})
		b.Run(network+"/bare-write", func(b *testing.B) {
			conn, err := net.Dial(network, sink(b, network))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			frame := handlerFor(b, network, "127.0.0.1:9").encode(&state{}, benchRecord())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.Write(frame); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
	}
}

// BenchmarkLoopbackRatio writes through the handler and bare to two
// receivers of the same kind, alternating blocks of 256 records, and
// reports the handler's records/s as a fraction of the bare writer's
// ("netlog/bare"). Alternating cancels the drift of a shared machine,
// which separate benchmarks would fold into the ratio.
func BenchmarkLoopbackRatio(b *testing.B) {
	for _, network := range []string{"tcp", "unix", "udp", "unixgram"} {
		b.Run(network, func(b *testing.B) {
			h := handlerFor(b, network, sink(b, network))
			conn, err := net.Dial(network, sink(b, network))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			r := benchRecord()
			frame := h.encode(&state{}, r)
			ctx := context.Background()
			const block = 256
			var inHandler, inBare time.Duration
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				for range block {
					if err := h.Handle(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
				mid := time.Now()
				for range block {
					if _, err := conn.Write(frame); err != nil {
						b.Fatal(err)
					}
				}
				inHandler += mid.Sub(start)
				inBare += time.Since(mid)
			}
			b.ReportMetric(float64(inBare)/float64(inHandler), "netlog/bare")
			b.ReportMetric(float64(inHandler)/float64(b.N*block), "netlog-ns/record")
			b.ReportMetric(float64(inBare)/float64(b.N*block), "bare-ns/record")
		})
	}
}
