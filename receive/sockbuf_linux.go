package receive

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// setSocketBuffer sets pc's receive buffer to n bytes — beyond
// net.core.rmem_max if the process may (SO_RCVBUFFORCE, CAP_NET_ADMIN) —
// and returns what the kernel granted.
func setSocketBuffer(pc net.PacketConn, n int) (int, error) {
	sc, ok := pc.(syscall.Conn)
	if !ok {
		return 0, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	cerr := rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
			if err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n); err != nil {
				return
			}
		}
		got, err = grantedBuffer(fd)
	})
	if cerr != nil {
		return 0, cerr
	}
	return got, err
}

// grantedBuffer is the receive buffer the kernel granted socket fd: half
// of what SO_RCVBUF reads back, since Linux doubles the size asked for to
// make room for its own bookkeeping.
func grantedBuffer(fd uintptr) (int, error) {
	n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	return n / 2, err
}
