package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
)

// TestRelayDedup: a RELP sender that numbers its records (Sequence)
// streams into netlog serve through a proxy that, a quarter in, stops
// passing the server's acknowledgments on, waits until the server has
// written 100 more records, and cuts the sender's connection (a reset). The
// sender sends everything unacknowledged again on a new connection, so the
// server gets those 100 and more twice. Without --dedup they are in the
// output twice; with it every record is there once, each handed to the
// output once, and netlog_receive_duplicates_total counts those dropped:
// at least the 100, at most the sender's RELP window (1,024), all it can
// have unacknowledged, for each reconnect.
func TestRelayDedup(t *testing.T) {
	for _, dedup := range []bool{false, true} {
		t.Run(fmt.Sprintf("dedup=%v", dedup), func(t *testing.T) { testRelayDedup(t, dedup) })
	}
}

func testRelayDedup(t *testing.T, dedup bool) {
	const n, withheld, window = 20_000, 100, 1024
	dir := t.TempDir()
	out := "file://" + filepath.Join(dir, "out.log")
	args := []string{"--out", out}
	if dedup {
		args = append(args, "--dedup", "100000")
	}
	rs := startRelay(t, args...)
	p := startCutProxy(t, rs.relp)
	h, err := netlog.NewSyslogHandler("relp", p.addr, &netlog.SyslogOptions{Options: netlog.Options{
		Sequence: true,
		Async:    &netlog.Async{MaxRecords: n, MaxBytes: 1 << 30},
		Backoff:  netlog.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			log.Info(fmt.Sprintf("rec%d.", i))
		}
	}()
	metrics := "http://" + rs.metrics + "/metrics"
	// Written, not taken: a record taken but not yet written when the
	// connection is cut is not written then, and its resending is no
	// duplicate.
	written := func() float64 { return scrape(t, metrics)[`netlog_output_delivered_total{output="`+out+`"}`] }
	eventually(t, "a quarter of the records written", func() bool { return written() >= n/4 })
	p.muteAll()
	at := written()
	eventually(t, fmt.Sprintf("%d records written after %v, their acknowledgments withheld", withheld, at),
		func() bool { return written() >= at+withheld })
	p.cut()
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil { // over RELP: every record acknowledged, so written
		t.Fatal(err)
	}
	st := h.Stats()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	m := scrape(t, metrics)
	seen, _ := fileCounts(t, dir, "", n)
	missing, dups, text := gapSummary(seen)
	dropped, handed := m["netlog_receive_duplicates_total"], m["netlog_receive_records_total"]
	t.Logf("--dedup %v: output %s; %v records handed to the output, %v duplicates dropped; the sender connected %d times",
		dedup, text, handed, dropped, st.Connects)
	if missing != 0 {
		t.Errorf("%s", text)
	}
	got := dups // the duplicates the scenario made: in the output without --dedup, dropped with it
	if dedup {
		got = int(dropped)
		if dups != 0 || handed != n {
			t.Errorf("with --dedup, %s, %v records handed to the output, want each of %d once", text, handed, n)
		}
	} else if dropped != 0 {
		t.Errorf("without --dedup, %v duplicates dropped", dropped)
	}
	if most := window * int(st.Connects-1); got < withheld || got > most {
		t.Errorf("%d duplicates, want from the %d whose acknowledgments were withheld to %d, the sender's window for each of %d reconnects",
			got, withheld, most, st.Connects-1)
	}
}

// cutProxy passes connections to a server; muteAll makes it swallow what
// the server sends on the connections passed so far, and cut resets them.
type cutProxy struct {
	addr  string
	mu    sync.Mutex
	conns []net.Conn
	mutes []*atomic.Bool
}

func startCutProxy(t *testing.T, server string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &cutProxy{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", server)
			if err != nil {
				c.Close()
				continue
			}
			mute := new(atomic.Bool)
			p.mu.Lock()
			p.conns, p.mutes = append(p.conns, c, s), append(p.mutes, mute)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.(*net.TCPConn).CloseWrite() }()
			go back(c, s, mute)
		}
	}()
	t.Cleanup(p.cut)
	return p
}

// back copies the server's bytes to the client, or drops them while muted.
func back(c, s net.Conn, mute *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		k, err := s.Read(buf)
		if k > 0 && !mute.Load() {
			if _, werr := c.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			c.(*net.TCPConn).CloseWrite()
			return
		}
	}
}

// cut resets every connection passed so far; later ones pass whole.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	p.conns, p.mutes = nil, nil
}

// muteAll mutes the connections passed so far.
func (p *cutProxy) muteAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.mutes {
		m.Store(true)
	}
}
