package relp

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
)

func testClient(t *testing.T, addr string, window int) *Client {
	t.Helper()
	cfg := transport.Config{Dial: func(ctx context.Context) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}, WriteTimeout: time.Minute}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	c := NewClient(cfg.Dialer(), cfg.WriteTimeout, window)
	t.Cleanup(func() { c.Close() })
	return c
}

// messages returns n messages back to back, and their ends.
func messages(n int) ([]byte, []int) {
	var b []byte
	var ends []int
	for i := range n {
		b = fmt.Appendf(b, "<14>1 - - t - - - rec%d.", i)
		ends = append(ends, len(b))
	}
	return b, ends
}

// stingy answers one RELP session as no real server would: it
// acknowledges the oldest unacknowledged message only when window of them
// are outstanding (or once all n have arrived). A client that waits for a
// whole window of responses before it writes again stalls against it; a
// client that ever has more than window messages unacknowledged is
// caught: when message k arrives, the client had read at most the
// responses sent so far. It returns the most it saw outstanding.
func stingy(c net.Conn, n, window int) (int, error) {
	defer c.Close()
	rd := NewReader(c, 1<<20)
	var pending []int // transaction numbers not yet acknowledged
	received, most := 0, 0
	answer := func(txnr int, text string) error {
		_, err := c.Write(Append(nil, txnr, "rsp", []byte(text)))
		return err
	}
	for {
		f, err := rd.Next()
		if err != nil {
			return most, err
		}
		switch f.Command {
		case "open":
			err = answer(f.Txnr, OK+"\n"+Offers)
		case "close":
			return most, answer(f.Txnr, OK)
		case "syslog":
			if want := fmt.Sprintf("rec%d.", received); !bytesHasSuffix(f.Data, want) {
				return most, fmt.Errorf("message %d is %q", received, f.Data)
			}
			received++
			pending = append(pending, f.Txnr)
			most = max(most, len(pending))
			if len(pending) > window {
				return most, fmt.Errorf("%d messages unacknowledged at message %d, over the window of %d", len(pending), received, window)
			}
			for err == nil && len(pending) > 0 && (len(pending) == window || received == n) {
				err, pending = answer(pending[0], OK), pending[1:]
			}
		}
		if err != nil {
			return most, err
		}
	}
}

func bytesHasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

// TestWindowSlides: against a server that acknowledges one message only
// when a whole window is outstanding, the client writes the next message
// as each acknowledgment comes in (a stop-and-wait client would wait for
// the rest of the window, and time out), and never has more than window
// messages unacknowledged.
func TestWindowSlides(t *testing.T) {
	for _, window := range []int{1, 16, 128} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			const n = 3000
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			type result struct {
				most int
				err  error
			}
			served := make(chan result, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					served <- result{0, err}
					return
				}
				most, err := stingy(c, n, window)
				served <- result{most, err}
			}()
			c := testClient(t, ln.Addr().String(), window)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			b, ends := messages(n)
			acked, err := c.WriteFrames(ctx, b, ends)
			if err != nil || acked != n {
				t.Fatalf("WriteFrames: %d of %d acknowledged, %v", acked, n, err)
			}
			c.Close()
			r := <-served
			if r.err != nil {
				t.Fatalf("server: %v", r.err)
			}
			if r.most != window {
				t.Errorf("at most %d messages were outstanding, want the window, %d", r.most, window)
			}
		})
	}
}

// TestWindowRefusal: a message refused in the middle of a sliding window
// stops the writer; the messages acknowledged after it are counted in
// the Refusal, and the session stays usable.
func TestWindowRefusal(t *testing.T) {
	const n, poison = 500, 200
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rd := NewReader(c, 1<<20)
		for {
			f, err := rd.Next()
			if err != nil {
				return
			}
			text := OK
			if f.Command == "syslog" && bytesHasSuffix(f.Data, fmt.Sprintf("rec%d.", poison)) {
				text = "500 poison"
			}
			if _, err := c.Write(Append(nil, f.Txnr, "rsp", []byte(text))); err != nil {
				return
			}
		}
	}()
	c := testClient(t, ln.Addr().String(), 32)
	b, ends := messages(n)
	acked, err := c.WriteFrames(context.Background(), b, ends)
	rf, ok := err.(*transport.Refusal)
	if acked != poison || !ok {
		t.Fatalf("WriteFrames: %d acknowledged, %v; want %d and a refusal", acked, err, poison)
	}
	if rf.After < 0 || rf.After > 31 {
		t.Errorf("%d acknowledged after the refused message, with a window of 32", rf.After)
	}
	rest := poison + 1 + rf.After
	if acked, err := c.WriteFrames(context.Background(), b[ends[rest-1]:], []int{ends[rest] - ends[rest-1]}); acked != 1 || err != nil {
		t.Errorf("on the same session after the refusal: %d, %v", acked, err)
	}
	if c.Connects() != 1 {
		t.Errorf("%d sessions, want 1", c.Connects())
	}
}

// BenchmarkWriteFrames: the client sending 200-byte messages in batches
// of 1,024 through a loopback connection to a server (in this process)
// that answers each read's worth of commands in one write, as netlog
// serve does. ns/op is per message, both ends included.
func BenchmarkWriteFrames(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rd := NewReader(c, 1<<20)
		var out []byte
		for {
			f, err := rd.Next()
			if err != nil {
				return
			}
			out = Append(out, f.Txnr, "rsp", []byte(OK))
			if rd.Buffered() == 0 {
				if _, err := c.Write(out); err != nil {
					return
				}
				out = out[:0]
			}
		}
	}()
	const batch = 1024
	msg := []byte(`<165>1 2026-12-01T04:30:00.000001Z host1.example.com benchapp 4242 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1001"] user alice logged in from 192.0.2.1 path=/api/v1/login latency=1.5ms ok=true`)
	var buf []byte
	var ends []int
	for range batch {
		buf = append(buf, msg...)
		ends = append(ends, len(buf))
	}
	cfg := transport.Config{Dial: func(ctx context.Context) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
	}}
	if err := cfg.Normalize(); err != nil {
		b.Fatal(err)
	}
	c := NewClient(cfg.Dialer(), time.Minute, 0)
	defer c.Close()
	ctx := context.Background()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for left := b.N; left > 0; left -= batch {
		n := min(left, batch)
		if _, err := c.WriteFrames(ctx, buf[:ends[n-1]], ends[:n]); err != nil {
			b.Fatal(err)
		}
	}
}
