package receive

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
)

// Datagrams are read in batches of packetBatch (one recvmmsg on Linux)
// and copied into chunks of about packetChunk bytes for the decoder;
// packetChunks of them at most are in flight, after which reading waits
// and datagrams wait in the socket's receive buffer.
const (
	packetBatch  = 32
	packetChunk  = 64 << 10
	packetChunks = 4
)

// datagramReader reads datagrams in batches.
type datagramReader interface {
	// read reads one datagram or more, at most len(bufs); more says
	// whether others are queued already. It is false whenever the next
	// read may wait: the caller holds back what it read, to fill its
	// chunk, while more is true.
	read(bufs [][]byte, sizes []int, addrs []net.Addr) (n int, more bool, err error)
	// drops is how many datagrams the kernel dropped on the socket so
	// far, as it last reported (0 where it cannot tell).
	drops() uint64
}

func (s *Server) servePacket(ctx context.Context, pc net.PacketConn, proto *protocol) error {
	listener := name(pc.LocalAddr())
	s.setReadBuffer(listener, pc)
	// On stop, wake the reader: it then delivers what is queued already,
	// for up to Drain, and returns as soon as nothing is.
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Now()) })
	defer stop()
	work, free := make(chan *chunk, packetChunks), make(chan *chunk, packetChunks)
	for range packetChunks {
		free <- &chunk{data: make([]byte, 0, packetChunk)}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.decodeDatagrams(proto, listener, work, free)
	}()
	err := s.readDatagrams(ctx, listener, pc, work, free)
	close(work)
	<-done
	return err
}

// readDatagrams reads pc's datagrams and hands them, in chunks, to the
// decoder, until ctx is done and nothing more is queued.
func (s *Server) readDatagrams(ctx context.Context, listener string, pc net.PacketConn, work, free chan *chunk) error {
	dr := newDatagramReader(pc)
	// One byte more than the largest frame allowed shows a datagram that was
	// cut short by the buffer as a prefix mismatch.
	size := transport.PrefixLen + min(s.maxFrame(), 1<<16) + 1
	bufs, sizes, addrs := make([][]byte, packetBatch), make([]int, packetBatch), make([]net.Addr, packetBatch)
	for i := range bufs {
		bufs[i] = make([]byte, size)
	}
	var drainEnd time.Time
	var seen uint64 // drops counted so far
	cur := <-free
	for {
		if ctx.Err() != nil {
			if drainEnd.IsZero() {
				drainEnd = time.Now().Add(s.drain())
			}
			if !queued(pc) || time.Now().After(drainEnd) {
				if len(cur.ends) > 0 {
					work <- cur
				}
				return nil
			}
			pc.SetReadDeadline(drainEnd)
		}
		n, more, err := dr.read(bufs, sizes, addrs)
		if err != nil {
			var ne net.Error
			if ctx.Err() != nil && errors.As(err, &ne) && ne.Timeout() {
				continue // what is queued is read next; the waking deadline may come late
			}
			if len(cur.ends) > 0 {
				work <- cur
			}
			return fmt.Errorf("receive: read on %s: %w", listener, err)
		}
		if d := dr.drops(); d > seen {
			s.kernelDrops.Add(d - seen)
			seen = d
		}
		s.frames.Add(uint64(n))
		for i := range n {
			cur.add(bufs[i][:sizes[i]])
			cur.addrs = append(cur.addrs, addrs[i])
		}
		if !more || len(cur.data) >= packetChunk {
			cur.idle = !more
			work <- cur
			cur = <-free
		}
	}
}

// decodeDatagrams decodes and adds the datagrams of each chunk, and
// commits when the reader had nothing more to read and no chunk waits.
func (s *Server) decodeDatagrams(proto *protocol, listener string, work <-chan *chunk, free chan<- *chunk) {
	var cp commitPoint
	for c := range work {
		start := 0
		for i, end := range c.ends {
			s.datagram(proto, &cp, listener, c.addrs[i], c.data[start:end])
			start = end
		}
		if c.idle && len(work) == 0 {
			if err := s.commit(context.Background(), &cp); err != nil {
				s.refuse(listener, "", ReasonSink, err)
			}
		}
		c.reset()
		clear(c.addrs)
		c.addrs = c.addrs[:0]
		free <- c
	}
	if err := s.commit(context.Background(), &cp); err != nil {
		s.refuse(listener, "", ReasonSink, err)
	}
}

// datagram delivers one datagram, or refuses it.
func (s *Server) datagram(proto *protocol, cp *commitPoint, listener string, addr net.Addr, d []byte) {
	p, err := proto.split(d)
	reason := Reason("")
	switch {
	case err == nil && len(p) > s.maxFrame():
		reason, err = ReasonTooLarge, fmt.Errorf("%w: %d bytes", transport.ErrFrameTooLarge, len(p))
	case errors.Is(err, transport.ErrTruncated):
		reason = ReasonTruncated
	case err != nil:
		reason = ReasonMismatch
	default:
		reason, err = s.deliver(proto, cp, listener, addrName(addr), p)
	}
	if err != nil {
		s.refuse(listener, addrName(addr), reason, err)
	}
}

func addrName(a net.Addr) string {
	if a == nil || a.String() == "" || a.String() == "@" {
		return "unix peer"
	}
	return a.String()
}

// readFromReader is the datagramReader of any net.PacketConn: one
// datagram per read.
type readFromReader struct{ pc net.PacketConn }

func (r readFromReader) read(bufs [][]byte, sizes []int, addrs []net.Addr) (int, bool, error) {
	n, addr, err := r.pc.ReadFrom(bufs[0])
	if err != nil {
		return 0, false, err
	}
	sizes[0], addrs[0] = n, addr
	return 1, false, nil
}

func (readFromReader) drops() uint64 { return 0 }
