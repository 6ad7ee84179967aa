//go:build !unix

package transport

import "net"

func socketFD(net.Conn) (uintptr, bool) { return 0, false }

func peerClosed(uintptr) bool { return false }
