//go:build linux

package transport

import (
	"net"

	"golang.org/x/sys/unix"
)

// canConfirm says that unacked and stalled can tell about c: a plain TCP
// connection (under TLS, the kernel counts record bytes, not frames).
func canConfirm(c net.Conn) bool {
	_, ok := c.(*net.TCPConn)
	return ok
}

// unacked returns how many of the bytes written to c its peer has not
// acknowledged: in flight, or not yet sent (SIOCOUTQ).
func unacked(c net.Conn) (int, bool) {
	n, ok := 0, false
	control(c, func(fd int) {
		v, err := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
		n, ok = v, err == nil
	})
	return n, ok
}

// stalled says that c's peer is alive but not reading: what waits does
// so because the peer's receive window is closed, and its answers to the
// window probes keep coming. A peer that is gone (a cut link, a dead
// host) leaves data to retransmit, or its window probes unanswered.
func stalled(c net.Conn) bool {
	alive := false
	control(c, func(fd int) {
		ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		alive = err == nil && ti.Retransmits == 0 && ti.Probes < 3
	})
	return alive
}

// resetByPeer says that c's peer reset it: what it had not acknowledged
// is lost on it. (A peer that closed in order may still read the rest.)
func resetByPeer(c net.Conn) bool {
	reset := false
	control(c, func(fd int) {
		ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		reset = err == nil && ti.State == unix.BPF_TCP_CLOSE
	})
	return reset
}

// control calls f with c's descriptor, which is valid only during the call.
func control(c net.Conn, f func(fd int)) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) { f(int(fd)) })
}
