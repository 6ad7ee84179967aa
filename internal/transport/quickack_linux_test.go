package transport

import (
	"io"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// TestQuickAck: over TCP the reader sets TCP_QUICKACK, and sets it again
// after a read (Linux clears it as it sees fit); over a Unix socket it is
// the connection itself. The peer writes only once the first check is
// done, and closes only after the second: its FIN puts the connection
// back in delayed-ACK (pingpong) mode (tcp_fin), and a check after it
// would read 0.
func TestQuickAck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	write, checked := make(chan struct{}), make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		<-write
		c.Write([]byte("ack"))
		<-checked
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	quick := func() int {
		v := -1
		control(c, func(fd int) { v, _ = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUICKACK) })
		return v
	}
	r := QuickAck(c)
	if _, ok := r.(*quickAck); !ok || quick() != 1 {
		t.Fatalf("QuickAck over TCP: %T, TCP_QUICKACK %d", r, quick())
	}
	control(c, func(fd int) { unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUICKACK, 0) })
	close(write)
	got := make([]byte, 3)
	if _, err := io.ReadFull(r, got); string(got) != "ack" || err != nil {
		t.Fatalf("read %q, %v", got, err)
	}
	if quick() != 1 {
		t.Errorf("TCP_QUICKACK %d after a read, want 1", quick())
	}
	close(checked)

	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if r := QuickAck(a); r != io.Reader(a) {
		t.Errorf("QuickAck over a pipe: %T", r)
	}
}
