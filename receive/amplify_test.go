package receive

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// countingWriter counts what a Printer writes.
type countingWriter struct {
	mu sync.Mutex
	n  int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += len(p)
	return len(p), nil
}

func (w *countingWriter) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func unicodeOp(s string) []byte { return appendUnicode(nil, s) }

// framed returns p behind its length prefix.
func framed(p []byte) []byte {
	b := append(transport.BeginFrame(nil), p...)
	transport.EndFrame(b, 0)
	return b
}

// memoFrame is a record dict whose "msg" is value (an opcode and its
// argument), memoized once and referenced by refs more attributes: the
// shape of the frames that printed 500 times their size.
func memoFrame(value []byte, refs int) []byte {
	p := append([]byte("\x80\x02}("), unicodeOp("msg")...)
	p = append(append(p, value...), 'q', 1)
	for i := range refs {
		p = append(append(p, unicodeOp(fmt.Sprintf("a%d", i))...), 'h', 1)
	}
	return append(p, 'u', '.')
}

// dupFrame is the costliest frame of n bytes found: one string of half
// of it, then a list of DUPs of it, one byte each: n²/4 bytes of text.
func dupFrame(n int) []byte {
	p := append([]byte("\x80\x02}("), unicodeOp("a")...)
	p = append(append(p, "]("...), unicodeOp(strings.Repeat("A", n/2))...)
	dups := n - len(p) - 3
	return append(append(p, strings.Repeat("2", dups)...), 'e', 'u', '.')
}

func bigLong(n int) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte{0x8b}, uint32(n)), strings.Repeat("\x7f", n)...)
}

// TestAmplifiedFramesRefused sends the frames that made the receiver
// print 10 to 105 MB, or grow past 4 GiB, to a Server printing text. Each
// is refused as amplified with the sender's address, prints nothing, and
// a good record on another connection still arrives.
func TestAmplifiedFramesRefused(t *testing.T) {
	out := &countingWriter{}
	printer := &Printer{W: out}
	got := make(chan string, 16)
	reports := make(chan Report, 16)
	srv := &Server{
		Sink: SinkFunc(func(e *record.Entry) error {
			err := printer.Write(e)
			got <- e.Msg
			return err
		}),
		OnRefuse: func(r Report) { reports <- r },
		Drain:    100 * time.Millisecond,
	}
	addr := map[string]string{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr["tcp"], addr["udp"] = ln.Addr().String(), pc.LocalAddr().String()
	wg.Add(2)
	go func() { defer wg.Done(); srv.ServeStream(ctx, ln) }()
	go func() { defer wg.Done(); srv.ServePacket(ctx, pc); pc.Close() }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	for i, c := range []struct {
		name, network string
		payload       []byte
	}{
		{"memo string", "tcp", memoFrame(unicodeOp(strings.Repeat("A", 10000)), 700)},
		{"memo big integer", "tcp", memoFrame(bigLong(2048), 13600)},
		{"82 KB memo string", "tcp", memoFrame(unicodeOp(strings.Repeat("A", 40000)), 3600)},
		{"1 MiB of DUPs", "tcp", dupFrame(DefaultMaxFrame)},
		{"57 KB datagram", "udp", memoFrame(unicodeOp(strings.Repeat("A", 30000)), 2400)},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := out.written()
			conn, err := net.Dial(c.network, addr[c.network])
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(framed(c.payload)); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-reports:
				if r.Reason != ReasonAmplified || r.Peer != conn.LocalAddr().String() {
					t.Errorf("%d-byte frame: %v, want refused as %s from %s", len(c.payload), r, ReasonAmplified, conn.LocalAddr())
				}
			case m := <-got:
				t.Fatalf("%d-byte frame delivered (msg of %d bytes), %d bytes printed", len(c.payload), len(m), out.written()-before)
			case <-time.After(30 * time.Second):
				t.Fatalf("%d-byte frame: neither refused nor delivered", len(c.payload))
			}
			if n := out.written() - before; n > 0 {
				t.Errorf("%d bytes printed for a refused frame", n)
			}
			good, err := net.Dial(c.network, addr[c.network])
			if err != nil {
				t.Fatal(err)
			}
			defer good.Close()
			want := fmt.Sprintf("good %d", i)
			if _, err := good.Write(framed(append(append([]byte("\x80\x02}("), unicodeOp("msg")...), append(unicodeOp(want), 'u', '.')...))); err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-got:
				if m != want {
					t.Errorf("got %q, want %q", m, want)
				}
			case r := <-reports:
				t.Errorf("good record refused: %v", r)
			case <-time.After(30 * time.Second):
				t.Fatal("the good record did not arrive")
			}
		})
	}
	if n := srv.Stats().Refused[ReasonAmplified]; n != 5 {
		t.Errorf("%d frames counted as amplified, want 5", n)
	}
}
