package receive_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/relp"
	"github.com/netlog-go/netlog/receive"
	"golang.org/x/net/ipv4"
)

// lineCounter is an output that counts the records written to it: the
// line feeds not followed by a TAB (a continuation line).
type lineCounter struct {
	n    atomic.Int64
	feed bool // the last byte was a line feed
}

func (c *lineCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		if c.feed && b != '\t' {
			c.n.Add(1)
		}
		c.feed = b == '\n'
	}
	return len(p), nil
}

// records is the number of records written, once the output has ended.
func (c *lineCounter) records() int64 {
	if c.feed {
		return c.n.Load() + 1
	}
	return c.n.Load()
}

// BenchmarkServeSyslogStream is the receive path end to end: b.N RFC
// 5424 messages of about 200 bytes, octet-counted, over one loopback
// connection into a Printer; ns/op is per record.
func BenchmarkServeSyslogStream(b *testing.B) {
	var in []byte
	for i := range 1000 {
		m := benchMessage(i)
		in = fmt.Appendf(in, "%d %s", len(m), m)
	}
	benchServe(b, (*receive.Server).ServeSyslogStream, in)
}

// BenchmarkServeStream is BenchmarkServeSyslogStream for netlog frames:
// the pickle of a record as Python's SocketHandler sends it (691 bytes,
// protocol 1, from the pickle fuzz corpus), length-prefixed.
func BenchmarkServeStream(b *testing.B) {
	p := pickleSeed(b, "python-sockethandler-flat")
	var in []byte
	for range 1000 {
		in = binary.BigEndian.AppendUint32(in, uint32(len(p)))
		in = append(in, p...)
	}
	benchServe(b, (*receive.Server).ServeStream, in)
}

// pickleSeed reads the payload of a file in the pickle fuzz seed corpus.
func pickleSeed(tb testing.TB, name string) []byte {
	tb.Helper()
	f, err := os.ReadFile("../internal/pickle/testdata/fuzz/FuzzDecode/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(string(f), "\n") // "go test fuzz v1", then []byte("...")
	line := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
	s, err := strconv.Unquote(line)
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(s)
}

// benchServe sends in, 1,000 records, over one loopback connection to
// serve until b.N records are sent, and waits for the server's close,
// after which every record is written.
func benchServe(b *testing.B, serve func(*receive.Server, context.Context, net.Listener) error, in []byte) {
	out := &lineCounter{}
	srv := &receive.Server{Sink: &receive.Printer{W: out}, OnRefuse: func(r receive.Report) { b.Error(r) }}
	c := dial(b, "tcp", serveOn(b, func(ctx context.Context, ln net.Listener) error { return serve(srv, ctx, ln) }))
	b.ReportAllocs()
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
	if got, want := out.records(), int64((b.N+999)/1000*1000); got != want {
		b.Fatalf("%d lines written, want %d", got, want)
	}
}

// BenchmarkServeRELP is BenchmarkServeSyslogStream over RELP: the same
// messages in "syslog" frames, their answers read as they come; ns/op and
// allocs/op are per record.
func BenchmarkServeRELP(b *testing.B) {
	out := &lineCounter{}
	srv := &receive.Server{Sink: &receive.Printer{W: out}, OnRefuse: func(r receive.Report) { b.Error(r) }}
	c := dial(b, "tcp", serveOn(b, srv.ServeRELP))
	answers := make(chan error)
	go func() { _, err := io.Copy(io.Discard, c); answers <- err }() // until the server closes after "close"
	msgs := make([]string, 256)
	for i := range msgs {
		msgs[i] = benchMessage(i)
	}
	var frame []byte
	txnr := 1
	next := func(command, data string) {
		frame = relp.Append(frame, txnr, command, []byte(data))
		txnr = txnr%relp.MaxTxnr + 1
	}
	next("open", "relp_version=0\nrelp_software=bench\ncommands=syslog")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		next("syslog", msgs[i%len(msgs)])
		if len(frame) > 64<<10 || i == b.N-1 {
			if _, err := c.Write(frame); err != nil {
				b.Fatal(err)
			}
			frame = frame[:0]
		}
	}
	next("close", "")
	if _, err := c.Write(frame); err != nil {
		b.Fatal(err)
	}
	if err := <-answers; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if got := out.records(); got != int64(b.N) {
		b.Fatalf("%d lines written, want %d", got, b.N)
	}
}

// BenchmarkServeSyslogPacket is the UDP receive path end to end: b.N
// RFC 5424 messages of about 200 bytes, one per datagram, over loopback
// into a Printer; ns/op is per datagram. The sender sends a window of
// datagrams (with sendmmsg) and waits until they are written or counted
// so that the kernel drops none, even on a receive buffer of the
// default size: one that did would stop the benchmark.
func BenchmarkServeSyslogPacket(b *testing.B) {
	const window = 64
	var msgs [][]byte
	for i := range window {
		msgs = append(msgs, []byte(benchMessage(i)))
	}
	out := &notifier{wrote: make(chan struct{}, 1)}
	srv := &receive.Server{Sink: &receive.Printer{W: out}, OnRefuse: func(r receive.Report) { b.Error(r) }}
	c := dial(b, "udp", servePacketOn(b, srv.ServeSyslogPacket))
	send := ipv4.NewPacketConn(c.(*net.UDPConn))
	batch := make([]ipv4.Message, window)
	for i := range batch {
		batch[i].Buffers = msgs[i : i+1]
	}
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		ms := batch[:min(window, b.N-sent)]
		for len(ms) > 0 {
			k, err := send.WriteBatch(ms, 0)
			if err != nil {
				b.Fatal(err)
			}
			ms = ms[k:]
		}
		sent += min(window, b.N-sent)
		// The listener commits (writes) once its socket runs empty; the
		// last line is counted when the next begins.
		for out.n.Load() < int64(sent-1) {
			select {
			case <-out.wrote:
			case <-time.After(10 * time.Second):
				b.Fatalf("%d of %d datagrams written; stats %+v", out.n.Load(), sent, srv.Stats())
			}
		}
	}
}

// notifier is a lineCounter that signals each write.
type notifier struct {
	lineCounter
	wrote chan struct{}
}

func (n *notifier) Write(p []byte) (int, error) {
	n.lineCounter.Write(p)
	select {
	case n.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

// benchMessage is the i-th of 256 RFC 5424 messages of about 200 bytes,
// with structured data, that the benchmarks send.
func benchMessage(i int) string {
	return fmt.Sprintf(`<165>1 2026-12-01T04:30:00.000001Z host1.example.com benchapp 4242 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1001"] user alice logged in from 192.0.2.%d path=/api/v1/login latency=1.5ms ok=true`, i%256)
}
