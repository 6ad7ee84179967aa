package transport

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// reader accepts connections on ln and sends what each reads to got.
func reader(t *testing.T, ln net.Listener, got chan<- string) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				if len(b) > 0 {
					got <- string(b)
				}
			}()
		}
	}()
}

// TestLinkFailover: a Link whose primary refuses connections moves to its
// fallback after FailoverAfter failed connects, and returns to the
// primary once it listens again; each switch is counted and reported.
func TestLinkFailover(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	primary := ln.Addr().String()
	ln.Close() // refused until it listens again
	fb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fromFallback, fromPrimary := make(chan string, 10), make(chan string, 10)
	reader(t, fb, fromFallback)
	dial := func(a string) func(context.Context) (net.Conn, error) {
		return func(ctx context.Context) (net.Conn, error) { return new(net.Dialer).DialContext(ctx, "tcp", a) }
	}
	var mu sync.Mutex
	var switches []Switch
	clock := time.Now() // the backoff's: each failed attempt moves it on
	l, err := NewLink(Config{Dial: dial(primary), Name: primary, Stream: true, FailoverAfter: 2, Now: func() time.Time { return clock },
		Fallbacks: []Dest{{Name: fb.Addr().String(), Dial: dial(fb.Addr().String())}},
		Backoff:   Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	d := l.Dialer()
	d.OnSwitch = func(s Switch) { mu.Lock(); switches = append(switches, s); mu.Unlock() }
	ctx := context.Background()
	write := func(msg string) {
		t.Helper()
		for i := 0; l.Write(ctx, []byte(msg)) != nil; i++ {
			if i == 10 {
				t.Fatalf("%q not written in 10 tries", msg)
			}
			clock = clock.Add(time.Second)
		}
	}
	write("one")
	if d.Failovers() != 1 || d.ConnectFailures() != 2 {
		t.Fatalf("failovers %d, connect failures %d; want 1, 2", d.Failovers(), d.ConnectFailures())
	}
	ln, err = net.Listen("tcp", primary)
	if err != nil {
		t.Fatal(err)
	}
	reader(t, ln, fromPrimary)
	clock = clock.Add(time.Second)
	write("two") // probes the primary first: its backoff has passed
	l.Close()
	if got := <-fromFallback; got != "one" {
		t.Errorf("the fallback read %q, want one", got)
	}
	if got := <-fromPrimary; got != "two" {
		t.Errorf("the primary read %q, want two", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if d.Failbacks() != 1 || len(switches) != 2 || switches[0].To != fb.Addr().String() || switches[0].Err == nil ||
		!switches[1].Back || switches[1].To != primary {
		t.Errorf("failbacks %d, switches %+v", d.Failbacks(), switches)
	}
}
