//go:build unix

package transport

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// TestPeerClosed checks the peek both ways: a quiet live peer is there, a
// peer that closed is not.
func TestPeerClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	fd, ok := socketFD(c)
	if !ok {
		t.Fatal("no descriptor under a TCP connection")
	}
	if peerClosed(fd) {
		t.Fatal("a live, quiet peer reads as closed")
	}
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !peerClosed(fd) { // the FIN crosses loopback asynchronously
		if time.Now().After(deadline) {
			t.Fatal("a closed peer still reads as live after 5 s")
		}
		runtime.Gosched()
	}
}
