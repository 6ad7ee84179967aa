package receive_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/relp"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// pySocketHandler sends n records with Python's logging.handlers.SocketHandler.
const pySocketHandler = `
import logging, logging.handlers, sys
h = logging.handlers.SocketHandler(sys.argv[1], int(sys.argv[2]))
log = logging.getLogger("good")
log.addHandler(h)
log.setLevel(logging.INFO)
for i in range(int(sys.argv[3])):
    log.info("good %d", i)
h.close()
`

// TestSilentFlood: 2,048 connections from 32 addresses that send nothing
// take at most their addresses' share of the slots (the default limit per
// address is MaxConns/64), so a Python SocketHandler from another address
// gets all its 1,000 records through; the silent connections are closed
// after HandshakeTimeout and counted.
func TestSilentFlood(t *testing.T) {
	srv := &receive.Server{}
	var mu sync.Mutex
	var got []string
	srv.Sink = receive.SinkFunc(func(e *record.Entry) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e.Msg)
		return nil
	})
	srv.OnRefuse = func(r receive.Report) {
		if strings.HasPrefix(r.Peer, "127.0.0.1:") {
			t.Errorf("the good sender: %v", r)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.ServeStream(ctx, ln) }()
	defer func() { cancel(); <-done }()

	// The silent connections come from 127.0.0.2 to 127.0.0.33; Python's,
	// from 127.0.0.1 (Linux's source address for all of 127/8).
	const silent, addrs = 2048, 32
	for i := range silent {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%addrs))}}
		if c, err := d.Dial("tcp", ln.Addr().String()); err == nil { // those over the limit are reset
			defer c.Close()
		}
	}

	py := peer.Path(t, "python3")
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	const good = 1000
	if out, err := exec.Command(py, "-c", pySocketHandler, host, port, fmt.Sprint(good)).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		st := srv.Stats()
		// Each silent connection is either reset at once (over its
		// address's limit) or closed after HandshakeTimeout.
		if n == good && st.SilentClosed+st.Refused[receive.ReasonBusy] == silent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute: %d of %d good records; stats %+v", n, good, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, m := range got {
		if m != fmt.Sprint("good ", i) {
			t.Fatalf("record %d is %q", i, m)
		}
	}
	if st := srv.Stats(); st.SilentClosed < addrs*receive.DefaultMaxConnsPerPeer || st.Active != 0 {
		t.Errorf("%d silent connections from %d addresses: stats %+v", silent, addrs, st)
	}
}

// TestRELPUnreadAcks: a RELP client that sends and never reads its
// acknowledgments is cut off once the server's answers have waited
// FrameTimeout to be written, and reported as slow.
func TestRELPUnreadAcks(t *testing.T) {
	srv := &receive.Server{FrameTimeout: time.Second}
	reports := make(chan receive.Report, 10)
	srv.Sink = receive.SinkFunc(func(*record.Entry) error { return nil })
	srv.OnRefuse = func(r receive.Report) { reports <- r }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.ServeRELP(ctx, ln) }()
	defer func() { cancel(); <-done }()

	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error { return setRcvBuf(rc, 4096) }} // a small window fills soon
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		var b []byte
		for txnr := 1; ; txnr++ { // "open" is the command with the longest answer
			b = relp.Append(b, txnr, "open", []byte(relp.Offers))
			if len(b) > 64<<10 {
				if _, err := c.Write(b); err != nil {
					return
				}
				b = b[:0]
			}
		}
	}()
	select {
	case r := <-reports:
		if r.Reason != receive.ReasonSlow || !strings.Contains(r.Err.Error(), "writing acknowledgments") {
			t.Errorf("report %v", r)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the server still waits to write acknowledgments after 2 minutes")
	}
}
