//go:build unix

package transport

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// netConner is a connection over another, as *tls.Conn is: named by its
// method so that the senders do not link crypto/tls.
type netConner interface{ NetConn() net.Conn }

// rawConn returns the raw connection under c, for peerClosed; nil if c
// has no socket under it.
func rawConn(c net.Conn) syscall.RawConn {
	if t, ok := c.(netConner); ok {
		c = t.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// peerClosed peeks at rc's socket without blocking. These protocols send
// nothing back, so anything readable — end of stream, a reset, a TLS
// alert — means the peer has gone; so does a connection already closed.
// The peek runs inside Control, the only time Go lends the descriptor.
func peerClosed(rc syscall.RawConn) bool {
	gone := false
	err := rc.Control(func(fd uintptr) {
		var b [1]byte
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		// EAGAIN: nothing to read, the peer is there. Success (end of
		// stream or data) or any other error: it is not.
		gone = err != unix.EAGAIN && err != unix.EINTR
	})
	return err != nil || gone
}
