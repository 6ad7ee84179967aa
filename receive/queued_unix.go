//go:build unix

package receive

import (
	"net"
	"syscall"
)

// queued says whether a datagram waits to be read on pc, without
// waiting for one. If it cannot tell, it says yes.
func queued(pc net.PacketConn) bool {
	sc, ok := pc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var b [1]byte
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		_, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	}); err != nil {
		return true
	}
	return rerr != syscall.EAGAIN && rerr != syscall.EWOULDBLOCK
}
