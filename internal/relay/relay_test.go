package relay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// freeAddr returns a loopback address nothing listens on, a moment ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// listen starts a syslog TCP (LF-framed) listener at addr and returns
// the messages it reads.
func listen(t *testing.T, addr string) <-chan string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	lines := make(chan string, 100)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for s := bufio.NewScanner(c); s.Scan(); {
			lines <- s.Text()
		}
	}()
	return lines
}

func open(t *testing.T, urls ...string) *Relay {
	t.Helper()
	var outs []Output
	for _, u := range urls {
		o, err := Open(u, &Env{Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, o)
	}
	r := New(outs)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r.Close(ctx)
	})
	return r
}

func entry(msg string, level slog.Level) *record.Entry {
	return &record.Entry{Name: "t", Msg: msg, LevelNo: record.LevelNo(level), LevelName: level.String(), Created: time.Now()}
}

// TestCommitWaitsForEveryOutput: a commit returns only once the output
// that is down has come up and delivered the record; a record below an
// output's level does not wait for it.
func TestCommitWaitsForEveryOutput(t *testing.T) {
	addr := freeAddr(t)
	r := open(t, "stdout", "syslog+tcp://"+addr+"?framing=lf&level=warn")
	debug, err := r.Add(entry("quiet", slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CommitRange(context.Background(), debug, debug); err != nil {
		t.Errorf("a record only stdout takes: %v", err)
	}
	warn, err := r.Add(entry("loud", slog.LevelWarn))
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.CommitRange(short, warn, warn); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("commit with the output down: %v", err)
	}
	lines := listen(t, addr)
	if err := r.CommitRange(context.Background(), warn, warn); err != nil {
		t.Errorf("commit once the output is up: %v", err)
	}
	if l := <-lines; !strings.HasSuffix(l, " loud") {
		t.Errorf("the output got %q", l)
	}
}

// TestCommitRangeIsPrecise: a record the output dropped (overflow
// drop-oldest) fails the commits whose range holds it, and no other.
func TestCommitRangeIsPrecise(t *testing.T) {
	addr := freeAddr(t)
	r := open(t, "syslog+tcp://"+addr+"?framing=lf&buffer=2&overflow=drop-oldest")
	var tickets []receive.Ticket
	for _, msg := range []string{"in-flight", "dropped", "kept"} {
		tk, err := r.Add(entry(msg, slog.LevelInfo))
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, tk)
		if msg == "in-flight" { // let the writer take it (and fail) before the queue fills
			for r.outs[0].(*handlerOutput).h.Stats().WriteErrors == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	lines := listen(t, addr)
	ctx := context.Background()
	for _, tc := range []struct {
		first, last int
		lost        bool
	}{{2, 2, false}, {0, 0, false}, {1, 1, true}, {0, 2, true}} {
		err := r.CommitRange(ctx, tickets[tc.first], tickets[tc.last])
		if tc.lost != errors.Is(err, spool.ErrLost) {
			t.Errorf("tickets %d to %d: %v", tc.first, tc.last, err)
		}
	}
	if got := []string{<-lines, <-lines}; !strings.HasSuffix(got[0], "in-flight") || !strings.HasSuffix(got[1], "kept") {
		t.Errorf("the output got %q", got)
	}
	if d := r.outs[0].Stats().Dropped["oldest"]; d != 1 {
		t.Errorf("dropped %d, want 1", d)
	}
}

// TestOfferDoesNotWait: a record offered (from a datagram) to an output
// whose queue is full is dropped and counted, without waiting, while the
// other output takes it.
func TestOfferDoesNotWait(t *testing.T) {
	r := open(t, "syslog+tcp://"+freeAddr(t)+"?buffer=1", "stderr")
	for range 3 {
		if err := r.Offer(entry("x", slog.LevelInfo)); err != nil {
			t.Fatal(err)
		}
	}
	dead, live := r.outs[0].Stats(), r.outs[1].Stats()
	if dead.Queued != 1 || dead.Dropped["full"] != 2 || live.Delivered != 3 {
		t.Errorf("dead output %+v, live output %+v", dead, live)
	}
}

// BenchmarkRelayCommit: records added and committed through a relay to
// stdout (discarded) and to a TCP output whose peer reads and discards;
// a commit after each record (a RELP batch of one), or after 256 (a full
// RELP batch of netlog serve). ns/op is per record.
func BenchmarkRelayCommit(b *testing.B) {
	for _, tc := range []struct {
		name, url string
		batch     int
		spool     bool // a durable queue (fsync=batch) in a temporary directory
	}{{"stdout", "stdout", 1, false}, {"tcp", "tcp://", 1, false}, {"tcp-spool", "tcp://", 1, true},
		{"stdout-batch256", "stdout", 256, false}, {"tcp-batch256", "tcp://", 256, false}, {"tcp-spool-batch256", "tcp://", 256, true}} {
		b.Run(tc.name, func(b *testing.B) {
			url := tc.url
			if url == "tcp://" {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				defer ln.Close()
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						go io.Copy(io.Discard, c)
					}
				}()
				url += ln.Addr().String()
			}
			if tc.spool {
				url += "?spool=" + b.TempDir()
			}
			o, err := Open(url, &Env{Stdout: io.Discard, Stderr: io.Discard})
			if err != nil {
				b.Fatal(err)
			}
			r := New([]Output{o})
			defer r.Close(context.Background())
			e := entry("a message of a typical length, with some words in it", slog.LevelInfo)
			e.Attrs = []slog.Attr{slog.String("user", "alice"), slog.Int("n", 42)}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var first receive.Ticket
				for n := 1; pb.Next(); n++ {
					t, err := r.Add(e)
					if n%tc.batch == 1 || tc.batch == 1 {
						first = t
					}
					if err == nil && n%tc.batch == 0 {
						err = r.CommitRange(ctx, first, t)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestRegister: a registered scheme (as file:// will be) opens through
// its Opener, as a Committer output.
func TestRegister(t *testing.T) {
	var buf syncBuffer
	Register("memtest", func(u *url.URL, env *Env) (Output, error) {
		if len(u.Query()) > 0 {
			return nil, fmt.Errorf("unknown parameter %q", u.RawQuery)
		}
		p := &receive.Printer{W: &buf}
		return CommitterOutput(display(u), p, slog.LevelInfo, p.Flush, nil), nil
	})
	if _, err := Open("memtest:///x?y=1", &Env{}); err == nil || !strings.Contains(err.Error(), `--out "memtest:///x?y=1": unknown parameter`) {
		t.Errorf("bad URL: %v", err)
	}
	r := open(t, "memtest:///x")
	tk, err := r.Add(entry("to memory", slog.LevelInfo))
	if err == nil {
		err = r.Commit(context.Background(), tk)
	}
	if err != nil || !strings.Contains(buf.String(), "INFO t: to memory") {
		t.Errorf("%v; wrote %q", err, buf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a Printer's writer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDisplay: an output's name masks its password and writes
// stdout:// as given.
func TestDisplay(t *testing.T) {
	for raw, want := range map[string]string{
		"stdout://":                            "stdout://",
		"stdout://?format=json":                "stdout://?format=json",
		"kafka://user:secret@b1:9092/t?acks=1": "kafka://user:xxxxx@b1:9092/t?acks=1",
		"syslog+relp://127.0.0.1:2514":         "syslog+relp://127.0.0.1:2514",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := display(u); got != want {
			t.Errorf("display(%s) = %s, want %s", raw, got, want)
		}
	}
}

// TestSpoolOutput: an output with spool= (its directory missing, fsync=
// and memory-first= given) keeps what it could not deliver at Close,
// counted as stored, not dropped; opened again on the directory it
// counts those records as recovered and delivers them first, in order.
func TestSpoolOutput(t *testing.T) {
	addr := freeAddr(t)
	u := "syslog+tcp://" + addr + "?framing=lf&spool=" + filepath.Join(t.TempDir(), "a", "b") + "&fsync=10ms&memory-first=0"
	o, err := Open(u, &Env{Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	r := New([]Output{o})
	for i := range 3 {
		if _, err := r.Add(entry(fmt.Sprintf("kept %d", i), slog.LevelInfo)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r.Close(ctx) // the destination is down: nothing delivered
	if st := o.Stats(); st.Stored != 3 || st.Delivered != 0 || sum(st.Dropped) != 0 {
		t.Fatalf("at Close: %+v, want 3 stored, none delivered or dropped", st)
	}

	lines := listen(t, addr)
	r = open(t, u)
	if st := r.Outputs()[0].Stats(); st.Recovered != 3 {
		t.Errorf("opened again: %+v, want 3 recovered", st)
	}
	for i := range 3 {
		select {
		case l := <-lines:
			if !strings.HasSuffix(l, fmt.Sprintf("kept %d", i)) {
				t.Errorf("line %d: %q", i, l)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%d of 3 records delivered after a minute", i)
		}
	}
}

// sum adds up an output's drops.
func sum(m map[string]uint64) (n uint64) {
	for _, v := range m {
		n += v
	}
	return n
}
