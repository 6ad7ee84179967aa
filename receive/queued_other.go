//go:build !unix

package receive

import "net"

// queued says whether a datagram waits to be read on pc; here it cannot
// tell, and says yes: the reader then waits for up to Drain.
func queued(net.PacketConn) bool { return true }
