//go:build unix

package transport

import (
	"net"
	"syscall"
)

// peerClosed reports whether the peer of a stream connection has closed
// it or reset it, by peeking without blocking: the protocols here never
// send anything back, so any readable state means the end.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = (err == nil && n == 0) || (err != nil && err != syscall.EAGAIN)
		return true
	})
	return closed
}
