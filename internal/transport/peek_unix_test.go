//go:build unix

package transport

import (
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection, closed at the
// end of the test.
func tcpPair(t *testing.T, ln net.Listener) (client, server net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return c, s
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// fd returns rc's descriptor number, to compare; it must not be used.
func fd(t *testing.T, rc syscall.RawConn) uintptr {
	t.Helper()
	var n uintptr
	if err := rc.Control(func(f uintptr) { n = f }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPeerClosed checks the peek both ways: a quiet live peer is there, a
// peer that closed is not.
func TestPeerClosed(t *testing.T) {
	c, s := tcpPair(t, listen(t))
	rc := rawConn(c)
	if rc == nil {
		t.Fatal("no socket under a TCP connection")
	}
	if peerClosed(rc) {
		t.Fatal("a live, quiet peer reads as closed")
	}
	s.Close()
	deadline := time.Now().Add(30 * time.Second)
	for !peerClosed(rc) { // the FIN crosses loopback asynchronously
		if time.Now().After(deadline) {
			t.Fatal("a closed peer still reads as live after 30 s")
		}
		runtime.Gosched()
	}
}

// TestPeerClosedAfterClose checks that the peek never reaches a
// descriptor after its connection is closed: once the number is reused by
// a live, quiet connection, a peek at the stale number would call the old
// peer alive.
func TestPeerClosedAfterClose(t *testing.T) {
	ln := listen(t)
	c, _ := tcpPair(t, ln)
	rc := rawConn(c)
	old := fd(t, rc)
	c.Close()
	for i := 0; ; i++ { // the lowest free number is reused, unless another goroutine took it
		if i == 100 {
			t.Skipf("descriptor %d not reused by 100 new connections", old)
		}
		n, _ := tcpPair(t, ln)
		if fd(t, rawConn(n)) == old {
			break
		}
	}
	if !peerClosed(rc) {
		t.Fatal("a closed connection reads as live: the peek used its descriptor's reused number")
	}
}
