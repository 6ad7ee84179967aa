//go:build !linux

package receive

import "net"

// setSocketBuffer asks for n bytes of receive buffer on pc. What the
// kernel granted is not read back here (0: unknown); Linux does
// (sockbuf_linux.go).
func setSocketBuffer(pc net.PacketConn, n int) (int, error) {
	if b, ok := pc.(interface{ SetReadBuffer(int) error }); ok {
		return 0, b.SetReadBuffer(n)
	}
	return 0, nil
}
