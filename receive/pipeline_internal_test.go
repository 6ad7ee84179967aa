package receive

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog/record"
)

// TestPipelineIdleHandOvers: a reader that finds nothing more to read
// time after time hands the writer an empty chunk each time, to commit,
// and takes none back meanwhile. The writer gives each back; once its
// queue of given-back chunks is full it must not wait on the reader
// while the reader waits on it (they deadlocked so, found under 386).
func TestPipelineIdleHandOvers(t *testing.T) {
	s := &Server{Sink: SinkFunc(func(*record.Entry) error { return nil })}
	pl := s.startPipeline(frames, &conn{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			pl.committed = false // as if a frame came since the last hand-over
			if !pl.handOver(true) {
				t.Error("the writer stopped")
				return
			}
		}
		pl.end()
		<-pl.done
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("reader and writer still waiting on each other after a minute")
	}
}

// lockedBuffer is an output that keeps what is written to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestStreamOrder: the records of one connection reach the Sink in the
// order they were sent, through the reader, the decoders taking chunks
// in turn, and the writer — small frames and frames too large for a
// chunk mixed, into the Printer (records decoded into the chunks' room)
// and into a Sink that keeps its records, with the chunks and the read
// buffer of each size (as if that many other connections were active)
// — with a memory budget that has room for only one chunk, which the
// connection then reuses instead of waiting for the budget, and with
// one where the connection's second chunk leaves no room for a large
// frame: the reader gives its chunks back (shed) instead of waiting for
// memory only it holds.
func TestStreamOrder(t *testing.T) {
	const n = 5000
	var in []byte
	for i := range n {
		pad := ""
		if i%300 == 0 { // over maxCopied: handed over alone, decoded by the reader
			pad = " " + strings.Repeat("x", maxCopied+100)
		}
		m := fmt.Sprintf(`<165>1 2026-12-01T04:30:00Z host app - - [id@1 n="%d"] seq=%d%s`, i, i, pad)
		in = fmt.Appendf(in, "%d %s", len(m), m)
	}
	sizes := []struct {
		name   string
		others int64 // connections active besides the test's
		size   chunkSize
	}{{"solo", 0, soloChunk}, {"deep", soloConns, deepChunk}, {"shallow", deepConns, shallowChunk}}
	for _, z := range sizes {
		if got := sizeFor(z.others + 1); got != z.size {
			t.Fatalf("%d active connections fill %v chunks, want %s's %v", z.others+1, got, z.name, z.size)
		}
		read := int64(readSizeFor(z.others + 1))
		budgets := map[string]int64{
			"default budget": 0,
			"one chunk":      read + 2*z.size.charge() - 1,
			// two chunks, and then no room for a large frame but what they hold
			"chunks shed": read + 2*z.size.charge() + maxCopied,
		}
		for name, budget := range budgets {
			for _, printer := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s, %s, printer %v", z.name, name, printer), func(t *testing.T) {
					var seqs []int
					var mu sync.Mutex
					out := &lockedBuffer{}
					var sink Sink = SinkFunc(func(e *record.Entry) error {
						mu.Lock()
						defer mu.Unlock()
						seqs = append(seqs, seqOf(e.Msg))
						return nil
					})
					if printer {
						sink = &Printer{W: out}
					}
					srv := &Server{Sink: sink, MaxMemory: budget, OnRefuse: func(r Report) { t.Errorf("refused: %v", r) }}
					srv.lim.active.Add(z.others)
					sendAll(t, srv, in)
					if printer {
						for _, line := range strings.Split(strings.TrimSuffix(out.b.String(), "\n"), "\n") {
							seqs = append(seqs, seqOf(line))
						}
					}
					if msg := orderSummary(seqs, n); msg != "" {
						t.Fatal(msg)
					}
				})
			}
		}
	}
}

// seqOf is the number after "seq=" in s, or -1.
func seqOf(s string) int {
	_, after, ok := strings.Cut(s, "seq=")
	if !ok {
		return -1
	}
	end := strings.IndexFunc(after, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(after)
	}
	v, err := strconv.Atoi(after[:end])
	if err != nil {
		return -1
	}
	return v
}

// orderSummary says how seqs differs from 0, 1, …, n-1: "" if it does
// not, else the count, the first record out of place, and what is
// missing or repeated.
func orderSummary(seqs []int, n int) string {
	seen := map[int]int{}
	first := -1
	for i, v := range seqs {
		seen[v]++
		if v != i && first < 0 {
			first = i
		}
	}
	if first < 0 && len(seqs) == n {
		return ""
	}
	var missing, dups int
	for i := range n {
		switch seen[i] {
		case 0:
			missing++
		case 1:
		default:
			dups += seen[i] - 1
		}
	}
	got := -2 // none: seqs is a short prefix
	if first >= 0 {
		got = seqs[first]
	}
	return fmt.Sprintf("%d records, want %d: %d missing, %d repeated; first out of place at %d (seq %d)", len(seqs), n, missing, dups, first, got)
}

// sendAll sends in over one loopback connection to srv's
// ServeSyslogStream and returns once the server has closed the
// connection, after which every record is written.
func sendAll(t *testing.T, srv *Server, in []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.ServeSyslogStream(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		c.Write(in)
		c.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(io.Discard, c) // the server's close: every record is written
}
