//go:build !linux

package transport

import (
	"io"
	"net"
)

// QuickAck returns c: TCP_QUICKACK is Linux's. (Elsewhere a peer that
// answers in small writes without TCP_NODELAY may wait for the delayed
// ACK of its previous answer.)
func QuickAck(c net.Conn) io.Reader { return c }
