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
// streams into netlog serve through a proxy. Once a quarter is
// acknowledged, the proxy stops passing the server's acknowledgments on;
// once the server has written a record the sender has no acknowledgment
// for, it cuts the sender's connection (a reset) and holds
// the next until the test has read what the first left: the records
// written and the acknowledgments the sender got. The sender sends
// everything unacknowledged again, so every record written but not
// acknowledged comes twice. Without --dedup they are in the output twice;
// with it every record is there once, each handed to the output once, and
// netlog_receive_duplicates_total counts those dropped: at least those
// written and not acknowledged, at most the sender's RELP window (1,024),
// all it can have unacknowledged, for each reconnect.
func TestRelayDedup(t *testing.T) {
	for _, dedup := range []bool{false, true} {
		t.Run(fmt.Sprintf("dedup=%v", dedup), func(t *testing.T) { testRelayDedup(t, dedup) })
	}
}

func testRelayDedup(t *testing.T, dedup bool) {
	const n, window = 20_000, 1024
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log := slog.New(h)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			log.Info(fmt.Sprintf("rec%d.", i))
		}
	}
	// A quarter acknowledged, then the acknowledgments withheld. How many
	// the sender sends unacknowledged depends on the batch its queue hands
	// over first (its RELP client waits for a batch's acknowledgments
	// before the next), so the test waits for one.
	send(0, n/4)
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.muteAll()
	done := make(chan struct{})
	go func() { defer close(done); send(n/4, n) }()
	metrics := "http://" + rs.metrics + "/metrics"
	// Written, not taken: a record taken but not yet written when the
	// connection is cut is not written then, and its resending is no
	// duplicate.
	written := func() float64 { return scrape(t, metrics)[`netlog_output_delivered_total{output="`+out+`"}`] }
	unacknowledged := func() int { return int(written()) - int(h.Stats().Acknowledged) }
	eventually(t, "a record written and not acknowledged", func() bool { return unacknowledged() >= 1 })
	p.cut()
	<-p.knocked // the sender saw the cut: its acknowledgments are final
	resent := unacknowledged()
	p.release()
	<-done
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
	t.Logf("--dedup %v: output %s; %v records handed to the output, %v duplicates dropped; %d written and not acknowledged at the cut; the sender connected %d times",
		dedup, text, handed, dropped, resent, st.Connects)
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
	if resent < 1 {
		t.Errorf("%d records written and not acknowledged at the cut, want 1 or more", resent)
	}
	if most := window * int(st.Connects-1); got < resent || got > most {
		t.Errorf("%d duplicates, want from the %d written and not acknowledged at the cut to %d, the sender's window for each of %d reconnects",
			got, resent, most, st.Connects-1)
	}
}

// cutProxy passes connections to a server. muteAll makes it swallow what
// the server sends, on the connections passed so far and on new ones; cut
// resets them all and holds new connections until release, after which
// they pass whole.
type cutProxy struct {
	addr    string
	mu      sync.Mutex
	conns   []net.Conn
	mutes   []*atomic.Bool
	muted   bool
	isCut   bool
	hold    chan struct{} // after cut, new connections wait until it is closed
	knocked chan struct{} // closed when a connection waits on hold
	knock   sync.Once
}

func startCutProxy(t *testing.T, server string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &cutProxy{addr: ln.Addr().String(), hold: make(chan struct{}), knocked: make(chan struct{})}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wait()
			s, err := net.Dial("tcp", server)
			if err != nil {
				c.Close()
				continue
			}
			mute := new(atomic.Bool)
			p.mu.Lock()
			mute.Store(p.muted)
			p.conns, p.mutes = append(p.conns, c, s), append(p.mutes, mute)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.(*net.TCPConn).CloseWrite() }()
			go back(c, s, mute)
		}
	}()
	t.Cleanup(p.release)
	t.Cleanup(p.cut)
	return p
}

// wait holds a new connection while the proxy is cut and not released.
func (p *cutProxy) wait() {
	p.mu.Lock()
	hold, cut := p.hold, p.isCut
	p.mu.Unlock()
	if cut {
		p.knock.Do(func() { close(p.knocked) })
		<-hold
	}
}

// release lets the connections that wait after cut pass, unmuted.
func (p *cutProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.muted = false
	select {
	case <-p.hold:
	default:
		close(p.hold)
	}
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

// cut resets every connection passed so far; later ones wait for
// release.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	p.conns, p.mutes, p.isCut = nil, nil, true
}

// muteAll mutes the connections passed so far and those to come.
func (p *cutProxy) muteAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.muted = true
	for _, m := range p.mutes {
		m.Store(true)
	}
}
