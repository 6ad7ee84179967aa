package receive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/relp"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// outputLog is an output that keeps what was written to it and counts
// the writes.
type outputLog struct {
	mu     sync.Mutex
	out    bytes.Buffer
	lines  int
	writes int
	fail   error
}

func (o *outputLog) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return 0, o.fail
	}
	o.writes++
	o.lines += bytes.Count(p, []byte("\n"))
	return o.out.Write(p)
}

func (o *outputLog) stats() (lines, writes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lines, o.writes
}

// line returns the nth line written (from 0), or "" if there is none yet.
func (o *outputLog) line(n int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n >= o.lines {
		return ""
	}
	return string(bytes.SplitN(o.out.Bytes(), []byte("\n"), n+2)[n])
}

// serveOn runs serve on a loopback listener until the test ends, and
// returns its address.
func serveOn(tb testing.TB, serve func(context.Context, net.Listener) error) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	runUntilEnd(tb, func(ctx context.Context) error { return serve(ctx, ln) })
	return ln.Addr().String()
}

// servePacketOn is serveOn for a datagram listener.
func servePacketOn(tb testing.TB, serve func(context.Context, net.PacketConn) error) string {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	runUntilEnd(tb, func(ctx context.Context) error { return serve(ctx, pc) })
	return pc.LocalAddr().String()
}

// runUntilEnd runs serve until the test ends, then waits for it and
// checks that it stopped without an error.
func runUntilEnd(tb testing.TB, serve func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- serve(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	})
}

// TestRELPAckAfterWrite: over RELP, every "200 OK" comes after its
// message is in the output — the client checks each one as it reads it —
// and the messages go out in far fewer writes than messages.
func TestRELPAckAfterWrite(t *testing.T) {
	out := &outputLog{}
	srv := &receive.Server{Sink: &receive.Printer{W: out}, OnRefuse: func(r receive.Report) { t.Errorf("refused: %v", r) }}
	c := dial(t, "tcp", serveOn(t, srv.ServeRELP))
	rr := relp.NewReader(c, 1<<20)
	relpCall(t, c, rr, 1, "open", []byte(relp.Offers))
	const messages = 20000
	msg := func(txnr int) string { return fmt.Sprintf("message-%06d.", txnr) }
	errs := make(chan error, 1)
	go func() { // the sender: a window of messages ahead of the acknowledgments
		var b []byte
		for txnr := 2; txnr < messages+2; txnr++ {
			b = relp.Append(b, txnr, "syslog", []byte("<14>1 - host app - - - "+msg(txnr)))
			if len(b) > 32<<10 || txnr == messages+1 {
				if _, err := c.Write(b); err != nil {
					errs <- err
					return
				}
				b = b[:0]
			}
		}
		errs <- nil
	}()
	for acked := 0; acked < messages; acked++ {
		f, err := rr.Next()
		if err != nil {
			t.Fatalf("after %d acknowledgments: %v", acked, err)
		}
		if string(f.Data) != relp.OK {
			t.Fatalf("txnr %d answered %q", f.Txnr, f.Data)
		}
		// One connection: message txnr is the output's line txnr-2.
		if lines, _ := out.stats(); lines < f.Txnr-1 {
			t.Fatalf("txnr %d acknowledged with %d lines written (%d acknowledged before it)", f.Txnr, lines, acked)
		}
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	lines, writes := out.stats()
	t.Logf("%d messages in %d writes", lines, writes)
	if lines != messages || writes > messages/4 {
		t.Errorf("%d lines in %d writes; want %d lines, batched", lines, writes, messages)
	}
	for _, txnr := range []int{2, messages + 1} { // the count above counts these lines
		if l := out.line(txnr - 2); !bytes.Contains([]byte(l), []byte(msg(txnr))) {
			t.Errorf("line %d is %q, want message %d", txnr-2, l, txnr)
		}
	}
}

// TestCloseAfterWrite: a stream connection's close, which a netlog
// handler takes as the acknowledgment of everything it sent before its
// own close, comes after every record of the connection is written; if
// the output failed, the connection is reset instead.
func TestCloseAfterWrite(t *testing.T) {
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprint("failing=", failing), func(t *testing.T) {
			out := &outputLog{}
			if failing {
				out.fail = errors.New("disk full")
			}
			srv := &receive.Server{Sink: &receive.Printer{W: out}, OnRefuse: func(r receive.Report) {
				if !failing || r.Reason != receive.ReasonSink {
					t.Errorf("refused: %v", r)
				}
			}}
			c := dial(t, "tcp", serveOn(t, srv.ServeSyslogStream)).(*net.TCPConn)
			const records = 5000
			var b []byte
			for i := range records {
				b = fmt.Appendf(b, "<14>1 - host app - - - record-%06d.\n", i)
			}
			if _, err := c.Write(b); err != nil {
				t.Fatal(err)
			}
			c.CloseWrite()
			_, err := io.Copy(io.Discard, c) // until the server's close
			switch {
			case failing && !errors.Is(err, syscall.ECONNRESET):
				t.Fatalf("with the output failing, the connection ended with %v, want a reset", err)
			case !failing && err != nil:
				t.Fatal(err)
			case !failing:
				if lines, _ := out.stats(); lines != records {
					t.Fatalf("connection closed with %d records of %d written", lines, records)
				}
			}
		})
	}
}

// TestRELPAnswers: a session's commands are answered in order, each
// after the messages before it are written: "open" with the offers, a
// message the Sink refuses with 500 (the session goes on), a command the
// server does not know with 500, a message too large to copy into a
// chunk as the others are, and "close", after which the server closes
// the connection.
func TestRELPAnswers(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var refusals []receive.Report
	sink := receive.SinkFunc(func(e *record.Entry) error {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(e.Msg, "refuse-me") {
			return errors.New("no room for this one")
		}
		got = append(got, e.Msg)
		return nil
	})
	srv := &receive.Server{Sink: sink, OnRefuse: func(r receive.Report) {
		mu.Lock()
		defer mu.Unlock()
		refusals = append(refusals, r)
	}}
	c := dial(t, "tcp", serveOn(t, srv.ServeRELP))
	large := "large " + strings.Repeat("x", 20<<10)
	sent := []struct{ cmd, data, answer string }{
		{"open", relp.Offers, relp.OK + "\n"},
		{"syslog", "<14>1 - host app - - - first", relp.OK},
		{"frob", "", "500 unknown command"},
		{"syslog", "<14>1 - host app - - - refuse-me", "500 not delivered"},
		{"syslog", "<14>1 - host app - - - " + large, relp.OK},
		{"syslog", "<14>1 - host app - - - last", relp.OK},
		{"close", "", ""},
	}
	var b []byte
	for i, f := range sent {
		b = relp.Append(b, i+1, f.cmd, []byte(f.data))
	}
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a session left open fails, not hangs
	rr := relp.NewReader(c, 1<<20)
	for i, f := range sent {
		a, err := rr.Next()
		if err != nil {
			t.Fatalf("answer %d: %v", i+1, err)
		}
		if a.Txnr != i+1 || a.Command != "rsp" || !strings.HasPrefix(string(a.Data), f.answer) || f.answer == "" && len(a.Data) > 0 {
			t.Errorf("%s (txnr %d) answered %d %s %q, want %q", f.cmd, i+1, a.Txnr, a.Command, a.Data, f.answer)
		}
	}
	if a, err := rr.Next(); err != io.EOF {
		t.Errorf("after the answer to close: %+v, %v; want the connection closed", a, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"first", large, "last"}; !slices.Equal(got, want) {
		t.Errorf("the Sink got %.40q, want %.40q", got, want)
	}
	if len(refusals) != 1 || refusals[0].Reason != receive.ReasonSink {
		t.Errorf("refusals %v, want the one message the Sink refused", refusals)
	}
}

// TestRELPAnswersMany: a window of messages sent at once is answered in
// order, each with its own txnr, over several writes of answers, runs of
// "200 OK" broken by the messages the Sink refuses.
func TestRELPAnswersMany(t *testing.T) {
	const n = 3000
	refused := func(i int) bool { return i%700 == 0 }
	srv := &receive.Server{Sink: receive.SinkFunc(func(e *record.Entry) error {
		if strings.HasPrefix(e.Msg, "refuse-me") {
			return errors.New("no room for this one")
		}
		return nil
	})}
	c := dial(t, "tcp", serveOn(t, srv.ServeRELP))
	b := relp.Append(nil, 1, "open", []byte(relp.Offers))
	for i := 2; i <= n; i++ {
		msg := fmt.Sprintf("message %d", i)
		if refused(i) {
			msg = "refuse-me " + msg
		}
		b = relp.Append(b, i, "syslog", []byte("<14>1 - host app - - - "+msg))
	}
	go c.Write(b)                                  // while the answers are read: neither side waits for the other's buffer
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a session left open fails, not hangs
	rr := relp.NewReader(c, 1<<20)
	var wrong []string
	for i := 1; i <= n; i++ {
		a, err := rr.Next()
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		want := relp.OK
		if refused(i) {
			want = "500 not delivered"
		}
		if a.Txnr != i || a.Command != "rsp" || !strings.HasPrefix(string(a.Data), want) {
			wrong = append(wrong, fmt.Sprintf("txnr %d answered %d %s %q, want %q", i, a.Txnr, a.Command, a.Data, want))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d of %d answers wrong, the first: %s", len(wrong), n, wrong[0])
	}
}
