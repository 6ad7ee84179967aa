package receive

import (
	"encoding/binary"
	"net"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// batchReader reads a UDP socket's datagrams with recvmmsg, many per
// system call, and learns from SO_RXQ_OVFL how many the kernel dropped.
type batchReader struct {
	pc interface {
		ReadBatch([]ipv4.Message, int) (int, error)
	}
	conn    net.PacketConn
	msgs    []ipv4.Message
	dropped uint64
}

// newDatagramReader reads a UDP socket in batches; other sockets one
// datagram at a time.
func newDatagramReader(pc net.PacketConn) datagramReader {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return readFromReader{pc}
	}
	r := &batchReader{pc: ipv4.NewPacketConn(uc), conn: uc}
	if a, ok := uc.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil && !a.IP.IsUnspecified() {
		r.pc = ipv6.NewPacketConn(uc)
	}
	if rc, err := uc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1) })
	}
	return r
}

func (r *batchReader) read(bufs [][]byte, sizes []int, addrs []net.Addr) (int, bool, error) {
	if r.msgs == nil {
		r.msgs = make([]ipv4.Message, len(bufs))
		for i := range r.msgs {
			r.msgs[i].Buffers = [][]byte{bufs[i]}
			r.msgs[i].OOB = make([]byte, unix.CmsgSpace(4))
		}
	}
	n, err := r.pc.ReadBatch(r.msgs, 0)
	if err != nil {
		return 0, false, err
	}
	for i := range n {
		sizes[i], addrs[i] = r.msgs[i].N, r.msgs[i].Addr
	}
	r.overflow(r.msgs[n-1].OOB[:r.msgs[n-1].NN])
	// Fewer than a batch means the queue was empty; a full batch may have
	// taken its last datagram, so ask rather than guess: the caller keeps
	// datagrams back while more are queued, and a guess wrong here kept
	// them until another datagram came, maybe never.
	return n, n == len(r.msgs) && queued(r.conn), nil
}

// overflow takes the kernel's count of drops from a datagram's control
// message (SO_RXQ_OVFL): the datagrams dropped on the socket before it.
func (r *batchReader) overflow(oob []byte) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
			r.dropped = uint64(binary.NativeEndian.Uint32(m.Data))
		}
	}
}

func (r *batchReader) drops() uint64 { return r.dropped }
