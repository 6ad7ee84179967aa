package receive

import (
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchReader reads a UDP socket's datagrams with recvmmsg, many per
// system call, into buffers outside the Go heap, and asks the kernel
// (SO_MEMINFO) how many it dropped.
//
// Each of the batch's buffers holds the largest datagram allowed, so
// that none is cut short, but a datagram touches only the pages it is
// written to: mapped outside the heap, the untouched rest costs no
// memory, and the collector, which lets garbage grow in proportion to
// the heap (GOGC), does not count it. In the heap, 32 buffers of 64 KiB
// let netlog serve (GOGC 400) keep 8 MiB more garbage.
type batchReader struct {
	conn   syscall.RawConn
	bufs   [][]byte
	mapped []byte // what bufs are cut from, if mapped
	hdrs   []mmsghdr
	iovs   []unix.Iovec
	names  []unix.RawSockaddrInet6 // big enough for either family
	// The last sender seen: a batch comes mostly from one or a few
	// senders, and the same address is handed on without allocating.
	lastAddr *net.UDPAddr
	last     unix.RawSockaddrInet6
	reads    int
	dropped  uint64
	// recv is recvmmsg for RawConn.Read, made once (a closure made per
	// read is an allocation per read); it leaves its result in n, errno.
	recv  func(fd uintptr) bool
	n     int
	errno syscall.Errno
	// meminfo is getsockopt(SO_MEMINFO) for RawConn.Control, made once
	// too, into mem.
	meminfo func(fd uintptr)
	mem     [unix.SK_MEMINFO_VARS]uint32
	// try is recv for RawConn.Control, made once too: one recvmmsg that
	// does not wait.
	try func(fd uintptr)
	// full says the last read filled the batch: more may be queued.
	full bool
	// pause says the last read took datagrams and emptied the queue: the
	// next one waits packetPause first, if gather (the socket's buffer
	// holds what arrives meanwhile).
	pause, gather bool
}

// After a read that empties the socket's queue, the next one waits
// packetPause before it reads, if the socket's buffer is at least
// gatherBuffer: at 200,000 datagrams/s a reader that read as soon as
// datagrams came took 4 per recvmmsg and waited for the socket some
// 20,000 times a second; in 18 runs of 1,000,000 datagrams, alternating,
// it lost 162,625 in all, and one that paused (31 per call) 27,160
// (docs/benchmarks-receiver.md). The Go runtime may wake it up to a
// millisecond later, which 1 MiB holds at any rate the reader keeps up
// with.
const (
	packetPause  = 200 * time.Microsecond
	gatherBuffer = 1 << 20
)

// mmsghdr is struct mmsghdr: a message and the length received.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// dropsEvery is how many full batches are read, at most, between two
// readings of the kernel's count of drops; it is read too whenever the
// socket has nothing more to read.
const dropsEvery = 32

// newDatagramReader reads a UDP socket in batches; other sockets one
// datagram at a time. Each buffer holds size bytes.
func newDatagramReader(pc net.PacketConn, size int) datagramReader {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return newReadFromReader(pc, size)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return newReadFromReader(pc, size)
	}
	r := &batchReader{conn: rc, bufs: make([][]byte, packetBatch), hdrs: make([]mmsghdr, packetBatch),
		iovs: make([]unix.Iovec, packetBatch), names: make([]unix.RawSockaddrInet6, packetBatch)}
	all, err := unix.Mmap(-1, 0, packetBatch*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err == nil {
		r.mapped = all
	} else {
		all = make([]byte, packetBatch*size)
	}
	// Neither recvmmsg with MSG_DONTWAIT nor getsockopt waits, so both are
	// raw system calls. Through Syscall6 the runtime takes one for a call
	// that may block: a recvmmsg of 32 datagrams can last long enough for
	// its monitor (sysmon) to hand the reader's P to another thread (a
	// wakeup), and keeps the monitor polling every 20 µs. At 200,000
	// datagrams/s, raw: 3.21 µs of CPU per record against 3.41 (13 runs
	// each), the monitor's thread 3–9 CPU ticks in 2 s against 12–15.
	r.recv = func(fd uintptr) bool {
		for {
			m, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), unix.MSG_DONTWAIT, 0, 0)
			if r.n, r.errno = int(m), e; e != unix.EINTR {
				return e != unix.EAGAIN && e != unix.EWOULDBLOCK
			}
		}
	}
	r.meminfo = func(fd uintptr) {
		size := uint32(unsafe.Sizeof(r.mem))
		_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_MEMINFO, uintptr(unsafe.Pointer(&r.mem[0])), uintptr(unsafe.Pointer(&size)), 0)
		if e == 0 && size >= (unix.SK_MEMINFO_DROPS+1)*4 {
			r.dropped = uint64(r.mem[unix.SK_MEMINFO_DROPS])
		}
	}
	r.try = func(fd uintptr) { r.recv(fd) }
	rc.Control(func(fd uintptr) {
		n, err := grantedBuffer(fd)
		r.gather = err == nil && n >= gatherBuffer
	})
	for i := range r.bufs {
		r.bufs[i] = all[i*size : (i+1)*size : (i+1)*size]
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(size)
	}
	return r
}

func (r *batchReader) read() (int, bool, error) {
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		*h = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&r.names[i])), Iov: &r.iovs[i]}
		h.Namelen = unix.SizeofSockaddrInet6
		h.SetIovlen(1)
	}
	// Fewer than a batch means the queue was empty; a full batch may have
	// taken its last datagram. The read after one does not wait: finding
	// nothing, it returns none, and the caller commits what it has (a
	// read that waited with records uncommitted held them until another
	// datagram came, maybe never). Asking first (MSG_PEEK) cost a system
	// call per full batch, where trying costs one only when the queue
	// ran empty.
	if r.pause {
		time.Sleep(packetPause)
	}
	var err error
	if r.full {
		err = r.conn.Control(r.try)
	} else {
		err = r.conn.Read(r.recv)
	}
	n := r.n
	switch {
	case err != nil:
		return 0, false, err
	case r.errno == unix.EAGAIN || r.errno == unix.EWOULDBLOCK:
		n = 0 // only after a full batch: Read waits instead
	case r.errno != 0:
		return 0, false, r.errno
	}
	r.full = n == len(r.hdrs)
	r.pause = r.gather && n > 0 && !r.full
	if r.reads++; !r.full || r.reads%dropsEvery == 0 {
		r.readDrops()
	}
	return n, r.full, nil
}

func (r *batchReader) datagram(i int) ([]byte, net.Addr) {
	return r.bufs[i][:r.hdrs[i].n], r.addr(&r.names[i])
}

// addr is the sender whose address the kernel wrote to sa. The bytes
// past an IPv4 address are the slot's leftovers: a sender compares
// unequal at worst, and is then made anew.
func (r *batchReader) addr(sa *unix.RawSockaddrInet6) net.Addr {
	if r.lastAddr != nil && *sa == r.last {
		return r.lastAddr
	}
	var ap netip.AddrPort
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		ap = netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port(sa4.Port))
	case unix.AF_INET6:
		ap = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), port(sa.Port))
		if sa.Scope_id != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.Scope_id)); err == nil {
				ap = netip.AddrPortFrom(ap.Addr().WithZone(ifi.Name), ap.Port())
			}
		}
	default:
		return nil
	}
	r.last, r.lastAddr = *sa, net.UDPAddrFromAddrPort(ap)
	return r.lastAddr
}

// port is a port in network byte order, as the kernel writes it.
func port(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// readDrops takes the kernel's count of the datagrams it dropped on the
// socket (sk_drops, which SO_RXQ_OVFL also reports).
func (r *batchReader) readDrops() { r.conn.Control(r.meminfo) }

func (r *batchReader) drops() uint64 { return r.dropped }

func (r *batchReader) close() {
	if r.mapped != nil {
		unix.Munmap(r.mapped)
		r.mapped = nil
	}
}
