//go:build !linux

package receive

import "net"

// newDatagramReader reads one datagram at a time: batched reads and the
// kernel's count of drops are Linux's (packet_linux.go).
func newDatagramReader(pc net.PacketConn, size int) datagramReader {
	return newReadFromReader(pc, size)
}
