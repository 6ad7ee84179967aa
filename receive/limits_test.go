package receive_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// limited runs a Server with the given limits on a loopback port and
// returns its address, its records and its refusals.
func limited(t *testing.T, s *receive.Server) (string, chan *record.Entry, chan receive.Report) {
	t.Helper()
	entries, reports := make(chan *record.Entry, 100), make(chan receive.Report, 100)
	s.Sink = receive.SinkFunc(func(e *record.Entry) error { entries <- e; return nil })
	s.OnRefuse = func(r receive.Report) { reports <- r }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.ServeStream(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String(), entries, reports
}

func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSlowAndIdlePeers: a peer that sends a frame a byte a second is cut
// off and reported; a peer that sends nothing is closed quietly and
// counted; a good sender meanwhile is served.
func TestSlowAndIdlePeers(t *testing.T) {
	srv := &receive.Server{FrameTimeout: time.Second, IdleTimeout: 300 * time.Millisecond}
	addr, entries, reports := limited(t, srv)

	slow := dialFrom(t, "127.0.0.1", addr)
	go func() {
		for _, b := range frame([]byte("a frame that never ends")) {
			if _, err := slow.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(time.Second / 4) // the trickle under test, four bytes a second
		}
	}()
	idle := dialFrom(t, "127.0.0.1", addr)

	h, err := netlog.NewSocketHandler("tcp", addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	slog.New(h).Info("good")
	if e := <-entries; e.Msg != "good" {
		t.Errorf("got %q", e.Msg)
	}
	r := <-reports
	if r.Reason != receive.ReasonSlow || r.Peer != slow.LocalAddr().String() {
		t.Errorf("report %v", r)
	}
	if _, err := idle.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the idle connection: %v", err)
	}
	if st := srv.Stats(); st.IdleClosed < 1 || st.Refused[receive.ReasonSlow] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestConnectionLimits: over its limit per address, a connection is
// reset at once and reported as busy; another address is still served.
// At the server's limit, a new connection is not accepted but waits, with
// what its peer sent, until a slot frees: nothing it sent is lost.
func TestConnectionLimits(t *testing.T) {
	srv := &receive.Server{MaxConns: 3, MaxConnsPerPeer: 2}
	addr, entries, reports := limited(t, srv)
	first := dialFrom(t, "127.0.0.1", addr)
	dialFrom(t, "127.0.0.1", addr)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}}
	if third, err := d.Dial("tcp", addr); err == nil { // the reset may come before connect returns
		if _, err := third.Read(make([]byte, 1)); err == nil {
			t.Errorf("the refused connection can be read")
		}
		third.Close()
	}
	if r := <-reports; r.Reason != receive.ReasonBusy || !strings.Contains(r.Err.Error(), "limit per address") {
		t.Errorf("report %v", r)
	}
	other := dialFrom(t, "127.0.0.2", addr)
	other.Write(frame([]byte(`{"msg":"from another address","levelno":20}`)))
	if e := <-entries; e.Msg != "from another address" {
		t.Errorf("got %q", e.Msg)
	}
	fourth := dialFrom(t, "127.0.0.3", addr) // over MaxConns: in the backlog
	if _, err := fourth.Write(frame([]byte(`{"msg":"waited","levelno":20}`))); err != nil {
		t.Fatal(err)
	}
	first.Close()
	select {
	case e := <-entries:
		if e.Msg != "waited" {
			t.Errorf("got %q", e.Msg)
		}
	case r := <-reports:
		t.Fatalf("the connection over MaxConns: %v", r)
	case <-time.After(30 * time.Second):
		t.Fatal("the connection over MaxConns was never served")
	}
	st := srv.Stats()
	if st.Active != 3 || st.Refused[receive.ReasonBusy] != 1 || st.Listeners["tcp "+addr] != (receive.ListenerStats{Accepted: 5, Active: 3}) {
		t.Errorf("stats %+v", st)
	}
}
