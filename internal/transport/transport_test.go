package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func frame(payload string) []byte {
	b := BeginFrame(nil)
	b = append(b, payload...)
	EndFrame(b, 0)
	return b
}

func TestFrameReader(t *testing.T) {
	in := append(frame("one"), frame("")...)
	in = append(in, frame("three")...)
	fr := NewFrameReader(bytes.NewReader(in), 16)
	for _, want := range []string{"one", "", "three"} {
		p, err := fr.Next()
		if err != nil || string(p) != want {
			t.Fatalf("Next = %q, %v; want %q", p, err, want)
		}
	}
	if _, err := fr.Next(); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
	for name, in := range map[string][]byte{
		"short prefix":  {0, 0},
		"short payload": frame("abcdef")[:7],
	} {
		if _, err := NewFrameReader(bytes.NewReader(in), 16).Next(); !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v, want ErrTruncated", name, err)
		}
	}
}

// TestFrameTooLargeAllocatesNothing sends a 4 GiB length prefix: it is
// refused before the frame's buffer is made. A buffer would be at least
// the limit, 1 MiB; what the runtime and other goroutines allocate in the
// same moment is a few KiB at most, so the least of ten tries is checked
// against 64 KiB (under load one try saw 5,528 bytes).
func TestFrameTooLargeAllocatesNothing(t *testing.T) {
	least := uint64(math.MaxUint64)
	for range 10 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := NewFrameReader(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}), 1<<20).Next()
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrFrameTooLarge) || !strings.Contains(err.Error(), "4294967295") {
			t.Fatalf("err = %v, want ErrFrameTooLarge naming the size", err)
		}
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	if least > 64<<10 {
		t.Fatalf("allocated %d bytes refusing the frame", least)
	}
}

func TestSplitDatagram(t *testing.T) {
	if p, err := SplitDatagram(frame("abc")); err != nil || string(p) != "abc" {
		t.Fatalf("good datagram: %q, %v", p, err)
	}
	bad := frame("abc")
	binary.BigEndian.PutUint32(bad, 100)
	if _, err := SplitDatagram(bad); err == nil || !strings.Contains(err.Error(), "disagrees") {
		t.Errorf("mismatched prefix: %v", err)
	}
	if _, err := SplitDatagram([]byte{1}); !errors.Is(err, ErrTruncated) {
		t.Errorf("one byte: %v", err)
	}
}

func TestBackoffSchedule(t *testing.T) {
	b, err := Backoff{Initial: time.Second, Factor: 2, Max: 30 * time.Second}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Second {
			t.Errorf("delay(%d) = %v, want %v", i+1, got, w*time.Second)
		}
	}
	j, _ := DefaultBackoff.Normalize()
	for n := 1; n < 8; n++ {
		full := b.Delay(n)
		for range 100 {
			if d := j.Delay(n); d > full || d < full*8/10 {
				t.Fatalf("jittered delay(%d) = %v, outside [%v, %v]", n, d, full*8/10, full)
			}
		}
	}
	for _, bad := range []Backoff{{Initial: -1}, {Factor: 0.5}, {Initial: time.Minute, Max: time.Second}, {Jitter: 1}} {
		if _, err := bad.Normalize(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// fakeClock is the Link's clock, moved by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Unix(0, 0).Add(d)
}

// TestLinkBackoffAgainstLateListener writes at chosen clock times to a Unix
// socket whose listener only comes up later: dials happen exactly when the
// schedule allows (0, 1, 3, 7 s with Initial 1 s and Factor 2), writes in
// between are refused with ErrBackingOff, and the first dial after the
// listener is up delivers the frame.
func TestLinkBackoffAgainstLateListener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "late.sock")
	clock := &fakeClock{}
	var dials []time.Duration
	var d net.Dialer
	link, err := NewLink(Config{
		Dial: func(ctx context.Context) (net.Conn, error) {
			dials = append(dials, clock.Now().Sub(time.Unix(0, 0)))
			return d.DialContext(ctx, "unix", path)
		},
		Backoff: Backoff{Initial: time.Second, Factor: 2, Max: 30 * time.Second},
		Stream:  true,
		Now:     clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	ctx := context.Background()
	for _, at := range []time.Duration{0, 500 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second, 6900 * time.Millisecond} {
		clock.Set(at)
		err := link.Write(ctx, frame("x"))
		if err == nil {
			t.Fatalf("write at %v succeeded with no listener", at)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		p, _ := NewFrameReader(c, 64).Next()
		got <- string(p)
	}()
	clock.Set(7 * time.Second)
	if err := link.Write(ctx, frame("delivered")); err != nil {
		t.Fatalf("write at 7s: %v", err)
	}
	if p := <-got; p != "delivered" {
		t.Fatalf("received %q", p)
	}
	want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}
	if len(dials) != len(want) {
		t.Fatalf("dials at %v, want %v", dials, want)
	}
	for i := range want {
		if dials[i] != want[i] {
			t.Fatalf("dials at %v, want %v", dials, want)
		}
	}
	if link.ConnectFailures() != 3 || link.Connects() != 1 {
		t.Errorf("connects %d, failures %d; want 1, 3", link.Connects(), link.ConnectFailures())
	}
}

// TestLinkSurvivesRestart closes the receiving end between writes, as a
// restarting collector does. Once the Link's watcher has seen the close,
// every frame written must arrive on a new connection: none may vanish
// into the dead socket, as it would if the Link wrote to it.
func TestLinkSurvivesRestart(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "r.sock")
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var d net.Dialer
			link, _ := NewLink(Config{
				Dial: func(ctx context.Context) (net.Conn, error) {
					return d.DialContext(ctx, network, ln.Addr().String())
				},
				Stream: true,
			})
			defer link.Close()
			ctx := context.Background()
			for round := range 3 {
				if err := link.Write(ctx, frame("hello")); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				// A frame lost in the dead socket leaves no connection to accept.
				ln.(interface{ SetDeadline(time.Time) error }).SetDeadline(time.Now().Add(5 * time.Second))
				c, err := ln.Accept()
				if err != nil {
					t.Fatalf("round %d: no connection carried the frame: %v", round, err)
				}
				fr := NewFrameReader(c, 64)
				if p, err := fr.Next(); err != nil || string(p) != "hello" {
					t.Fatalf("round %d: first frame %q, %v", round, p, err)
				}
				link.mu.Lock()
				gone := link.gone
				link.mu.Unlock()
				c.Close() // the collector goes away; the listener stays
				<-gone
			}
			if link.Connects() != 3 {
				t.Errorf("connects = %d, want 3", link.Connects())
			}
		})
	}
}

func TestCheckAddress(t *testing.T) {
	stream := []string{"tcp", "tcp4", "tcp6", "unix"}
	for _, c := range []struct{ network, addr, want string }{
		{"tcp", "localhost", "missing port"},
		{"tcp", "localhost:99999", "99999"},
		{"tcp", "localhost:0", "outside 1-65535"},
		{"tcp", "localhost:nosuchservice", `"nosuchservice"`},
		{"tcp", "bad host:9020", `"bad host"`},
		{"tcp", "a..b:9020", `"a..b"`},
		{"sctp", "localhost:9020", `"sctp"`},
		{"unix", "", "empty Unix socket path"},
		{"unix", strings.Repeat("p", 200), "over the limit"},
	} {
		err := CheckAddress(c.network, c.addr, stream...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: %v, want an error naming %s", c.network, c.addr, err, c.want)
		}
	}
	for _, ok := range []string{"localhost:9020", "127.0.0.1:9020", "[::1]:9020", ":9020", "log-host.example_1.org:9020"} {
		if err := CheckAddress("tcp", ok, stream...); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// countingConn counts the writes that reach the connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestLinkGroupCommit writes from many goroutines at once: every frame
// arrives once and whole, and the frames share fewer writes than there
// are frames, because callers that queue behind a write are written as
// one group.
func TestLinkGroupCommit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var writes atomic.Int64
	var d net.Dialer
	link, _ := NewLink(Config{
		Dial: func(ctx context.Context) (net.Conn, error) {
			c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
			return countingConn{c, &writes}, err
		},
		Stream: true,
	})
	const writers, each = 8, 500
	got := make(chan map[string]int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		seen := map[string]int{}
		fr := NewFrameReader(c, 64)
		for range writers * each {
			p, err := fr.Next()
			if err != nil {
				break
			}
			seen[string(p)]++
		}
		got <- seen
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := link.Write(context.Background(), frame(fmt.Sprintf("w%d-%d", w, i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	link.Close()
	seen := <-got
	for w := range writers {
		for i := range each {
			if n := seen[fmt.Sprintf("w%d-%d", w, i)]; n != 1 {
				t.Fatalf("frame w%d-%d arrived %d times", w, i, n)
			}
		}
	}
	if n := writes.Load(); n >= writers*each {
		t.Errorf("%d writes for %d frames: no group was committed", n, writers*each)
	} else {
		t.Logf("%d frames in %d writes", writers*each, n)
	}
}
