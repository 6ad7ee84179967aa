//go:build !unix

package transport

import (
	"net"
	"syscall"
)

// rawConn and peerClosed: no peek here (Windows, Plan 9, WebAssembly); a
// Link notices a gone peer through its reader and failed writes alone.
func rawConn(net.Conn) syscall.RawConn { return nil }

func peerClosed(syscall.RawConn) bool { return false }
