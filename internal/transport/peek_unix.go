//go:build unix

package transport

import (
	"crypto/tls"
	"net"
	"syscall"
	"unsafe"
)

// socketFD returns the descriptor under c, for peerClosed.
func socketFD(c net.Conn) (uintptr, bool) {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var fd uintptr
	if rc.Control(func(f uintptr) { fd = f }) != nil {
		return 0, false
	}
	return fd, true
}

// peerClosed peeks at fd without blocking. These protocols send nothing
// back, so anything readable — end of stream, a reset, a TLS alert — means
// the peer has gone. The caller must keep the connection open meanwhile.
func peerClosed(fd uintptr) bool {
	var b byte
	_, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b)), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	// EAGAIN: nothing to read, the peer is there. Success (end of stream
	// or data) or any other error: it is not.
	return errno != syscall.EAGAIN && errno != syscall.EINTR
}
