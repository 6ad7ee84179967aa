//go:build unix

package main

import "syscall"

// setRcvBuf sets a socket's receive buffer before it connects, so that the
// window it announces is small from the start.
func setRcvBuf(rc syscall.RawConn, n int) error {
	var err error
	if cerr := rc.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n) }); cerr != nil {
		return cerr
	}
	return err
}
