//go:build linux

package transport

import (
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// QuickAck returns a reader of c that sets TCP_QUICKACK on c's socket
// before the first read and again after every read, so that the kernel
// acknowledges what arrives at once instead of delaying the ACK (40 ms on
// Linux). A request-response protocol whose peer answers in small writes
// without TCP_NODELAY (rsyslog's librelp) needs it: the peer's Nagle holds
// each answer after the first until the previous one is acknowledged.
// Linux clears the flag as it sees fit, hence the re-arming. Over
// anything but TCP (and TLS over TCP) it returns c.
func QuickAck(c net.Conn) io.Reader {
	under := c
	if t, ok := c.(netConner); ok {
		under = t.NetConn()
	}
	rc := rawConn(under)
	if _, ok := under.(*net.TCPConn); !ok || rc == nil {
		return c
	}
	q := &quickAck{c: c, rc: rc}
	q.arm()
	return q
}

type quickAck struct {
	c  net.Conn
	rc syscall.RawConn
}

func (q *quickAck) Read(b []byte) (int, error) {
	n, err := q.c.Read(b)
	if n > 0 {
		q.arm()
	}
	return n, err
}

func (q *quickAck) arm() {
	q.rc.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1) // best effort: without it, only slower
	})
}
