//go:build !linux

package transport

import "net"

// Elsewhere than on Linux, a Link cannot tell what its peer acknowledged:
// it keeps no frames to send again, and treats a write that times out as
// a failed connection (see Link).

func canConfirm(net.Conn) bool { return false }

func unacked(net.Conn) (int, bool) { return 0, false }

func stalled(net.Conn) bool { return false }

func resetByPeer(net.Conn) bool { return false }
