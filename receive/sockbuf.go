package receive

import (
	"fmt"
	"net"
)

// setReadBuffer asks for ReadBuffer bytes of socket receive buffer on
// pc, and warns when the kernel grants less (or cannot be asked): a
// burst larger than what it grants is dropped by the kernel.
func (s *Server) setReadBuffer(listener string, pc net.PacketConn) {
	want := orDefault(s.ReadBuffer, PacketBuffer)
	got, err := setSocketBuffer(pc, want)
	switch {
	case err != nil:
		s.warn(fmt.Errorf("receive buffer of %s: asking for %d bytes: %w", listener, want, err))
	case got > 0 && got < want:
		s.warn(fmt.Errorf("receive buffer of %s: asked for %d bytes, the kernel granted %d (its limit is net.core.rmem_max; root may exceed it)", listener, want, got))
	}
}

// warn tells OnWarning of a condition that makes the server lose more
// than it would, without refusing anything yet.
func (s *Server) warn(err error) {
	if s.OnWarning != nil {
		s.OnWarning(err)
	}
}
