package receive

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// Datagrams are read in batches of packetBatch (one recvmmsg on Linux)
// and copied into chunks of about packetChunk bytes for the decoder. A
// batch is appended to the last chunk queued while the decoder has not
// taken it and it has room, so that the queue holds what the decoder is
// behind by, not one chunk per read: handed over one per read, 16 chunks
// held a few dozen datagrams at 50,000/s, and a decoder stalled for a
// few milliseconds (its output's write(2), on a busy machine) made the
// reader wait while the socket's buffer overflowed. packetQueue chunks
// (16 MiB, ~65,000 datagrams of 200 bytes, a third of a second at
// 200,000/s) are in flight at most, after which reading waits and
// datagrams wait in the socket's receive buffer; chunks beyond
// packetChunks are made when a stall needs them and dropped once free.
const (
	packetBatch  = 32
	packetChunk  = 64 << 10
	packetChunks = 16
	packetQueue  = 256
)

// datagramReader reads datagrams in batches, into buffers of its own.
type datagramReader interface {
	// read reads one datagram or more; more says whether others may be
	// queued already. It is false whenever the next read may wait: the
	// caller then makes sure what it read is decoded without waiting
	// for more. A read after one that said more does not wait: it
	// returns no datagram if none was queued after all.
	read() (n int, more bool, err error)
	// datagram is datagram i of the last read and its sender, valid
	// until the next read.
	datagram(i int) ([]byte, net.Addr)
	// drops is how many datagrams the kernel dropped on the socket so
	// far, as it last reported (0 where it cannot tell).
	drops() uint64
	// close releases the buffers.
	close()
}

// datagramChunk is a run of datagrams the reader hands to the decoder.
type datagramChunk struct {
	data  []byte     // the datagrams, back to back
	ends  []int      // where each ends in data
	addrs []net.Addr // each one's sender
	idle  bool       // the socket had nothing more to read after its last datagram: commit
}

func (c *datagramChunk) add(d []byte, addr net.Addr) {
	c.data = append(c.data, d...)
	c.ends = append(c.ends, len(c.data))
	c.addrs = append(c.addrs, addr)
}

func (c *datagramChunk) reset() {
	clear(c.addrs)
	c.data, c.ends, c.addrs, c.idle = c.data[:0], c.ends[:0], c.addrs[:0], false
}

// datagramQueue hands chunks of datagrams from the reader to the
// decoder, in order.
type datagramQueue struct {
	mu     sync.Mutex
	queued []*datagramChunk // the first is the decoder's next
	free   []*datagramChunk
	made   int // chunks queued, free or being decoded
	closed bool
	ready  chan struct{} // a token: something was queued, or the queue closed
	freed  chan struct{} // a token: a chunk was freed
}

func newDatagramQueue() *datagramQueue {
	return &datagramQueue{ready: make(chan struct{}, 1), freed: make(chan struct{}, 1)}
}

// token leaves a token in ch, unless one is there already.
func token(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// put queues the n datagrams of dr's last read; idle says the socket had
// nothing more. It waits while packetQueue chunks are in flight.
func (q *datagramQueue) put(dr datagramReader, n int, idle bool) {
	q.mu.Lock()
	var c *datagramChunk
	for i := range n {
		c = q.last()
		c.add(dr.datagram(i))
	}
	if c == nil { // no datagram: the last chunk, or an empty one, carries idle
		c = q.last()
	}
	c.idle = idle
	// A waiting decoder is woken when a chunk is full or the socket ran
	// empty, not for each read: while more is queued, the next read
	// follows at once, and the decoder takes the chunk it fills then.
	wake := idle || len(q.queued) > 1
	q.mu.Unlock()
	if wake {
		token(q.ready)
	}
}

// last is the chunk to append to, with q locked: the last one queued if
// it has room, else a new one, for which it may wait.
func (q *datagramQueue) last() *datagramChunk {
	if k := len(q.queued); k > 0 && len(q.queued[k-1].data) < packetChunk {
		return q.queued[k-1]
	}
	for len(q.free) == 0 && q.made == packetQueue {
		q.mu.Unlock()
		token(q.ready) // what this put queued so far
		<-q.freed
		q.mu.Lock()
	}
	var c *datagramChunk
	if k := len(q.free); k > 0 {
		c, q.free = q.free[k-1], q.free[:k-1]
	} else {
		c, q.made = &datagramChunk{data: make([]byte, 0, packetChunk)}, q.made+1
	}
	q.queued = append(q.queued, c)
	return c
}

// take returns the next chunk, waiting for one; nil once the queue is
// closed and empty.
func (q *datagramQueue) take() *datagramChunk {
	for {
		q.mu.Lock()
		if len(q.queued) > 0 {
			c := q.queued[0]
			q.queued[0] = nil
			q.queued = q.queued[1:]
			q.mu.Unlock()
			return c
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil
		}
		<-q.ready
	}
}

// pending says whether a chunk is queued.
func (q *datagramQueue) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queued) > 0
}

// release frees a chunk the decoder is done with; beyond packetChunks
// free, it is dropped.
func (q *datagramQueue) release(c *datagramChunk) {
	c.reset()
	q.mu.Lock()
	if len(q.free) < packetChunks {
		q.free = append(q.free, c)
	} else {
		q.made--
	}
	q.mu.Unlock()
	token(q.freed)
}

// close ends the queue: take returns nil once it is empty.
func (q *datagramQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	token(q.ready)
}

// servePacket reads pc's datagrams on one goroutine and decodes them on
// another, until ctx is done and nothing more is queued.
func (s *Server) servePacket(ctx context.Context, pc net.PacketConn, proto *protocol) error {
	listener := name(pc.LocalAddr())
	s.setReadBuffer(listener, pc)
	// On stop, wake the reader: it then delivers what is queued already,
	// for up to Drain, and returns as soon as nothing is.
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Now()) })
	defer stop()
	q := newDatagramQueue()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.decodeDatagrams(proto, listener, q)
	}()
	err := s.readDatagrams(ctx, listener, pc, q)
	q.close()
	<-done
	return err
}

// readDatagrams reads pc's datagrams and queues them for the decoder,
// until ctx is done and nothing more is queued.
func (s *Server) readDatagrams(ctx context.Context, listener string, pc net.PacketConn, q *datagramQueue) error {
	// One byte more than the largest frame allowed shows a datagram that was
	// cut short by the buffer as a prefix mismatch.
	dr := newDatagramReader(pc, transport.PrefixLen+min(s.maxFrame(), 1<<16)+1)
	defer dr.close()
	var drainEnd time.Time
	var seen uint64 // drops counted so far
	for {
		if ctx.Err() != nil {
			if drainEnd.IsZero() {
				drainEnd = time.Now().Add(s.drain())
			}
			if !queued(pc) || time.Now().After(drainEnd) {
				return nil
			}
			pc.SetReadDeadline(drainEnd)
		}
		n, more, err := dr.read()
		if err != nil {
			var ne net.Error
			if ctx.Err() != nil && errors.As(err, &ne) && ne.Timeout() {
				continue // what is queued is read next; the waking deadline may come late
			}
			return fmt.Errorf("receive: read on %s: %w", listener, err)
		}
		if k := dr.drops(); k > seen {
			s.kernelDrops.Add(k - seen)
			seen = k
		}
		s.frames.Add(uint64(n))
		q.put(dr, n, !more)
	}
}

// decodeDatagrams decodes and adds the datagrams of each chunk, and
// commits when the reader had nothing more to read and no chunk waits.
func (s *Server) decodeDatagrams(proto *protocol, listener string, q *datagramQueue) {
	d := newDatagramDecoder(s, proto, listener)
	for c := q.take(); c != nil; c = q.take() {
		start := 0
		for i, end := range c.ends {
			d.datagram(c.data[start:end], c.addrs[i])
			start = end
		}
		d.endBatch(!c.idle || q.pending())
		q.release(c)
	}
	d.commit()
}

// datagramDecoder decodes a listener's datagrams and adds their records.
type datagramDecoder struct {
	s        *Server
	proto    *protocol
	listener string
	cp       commitPoint
	room     *chunk // where records are decoded, if the Sink is Transient
	// The sender of the last datagram, and its name: most datagrams come
	// from a sender of the one before, and its name is made once.
	addr *net.UDPAddr
	peer string
}

func newDatagramDecoder(s *Server, proto *protocol, listener string) *datagramDecoder {
	d := &datagramDecoder{s: s, proto: proto, listener: listener, cp: commitPoint{offer: true}}
	if _, ok := s.Sink.(Transient); ok && proto.into != nil {
		d.room = &chunk{size: chunkSize{frames: 1}} // each record is added before the next is decoded
	}
	return d
}

// endBatch ends a chunk of datagrams, whose records are all added: the
// room is cleared (an outsize Attrs array dropped), and the records
// committed unless more datagrams wait already.
func (d *datagramDecoder) endBatch(more bool) {
	if d.room != nil {
		d.room.reset()
	}
	if !more {
		d.commit()
	}
}

func (d *datagramDecoder) commit() {
	if err := d.s.commit(context.Background(), &d.cp); err != nil {
		d.s.refuse(d.listener, "", ReasonSink, err)
	}
}

// datagram delivers datagram b from addr, or refuses it.
func (d *datagramDecoder) datagram(b []byte, addr net.Addr) {
	if ua, ok := addr.(*net.UDPAddr); !ok || ua != d.addr {
		d.addr, d.peer = ua, addrName(addr)
	}
	s := d.s
	p, err := d.proto.split(b)
	reason := Reason("")
	switch {
	case err == nil && len(p) > s.maxFrame():
		reason, err = ReasonTooLarge, fmt.Errorf("%w: %d bytes", transport.ErrFrameTooLarge, len(p))
	case errors.Is(err, transport.ErrTruncated):
		reason = ReasonTruncated
	case err != nil:
		reason = ReasonMismatch
	default:
		reason, err = d.deliver(p)
	}
	if err != nil {
		s.refuse(d.listener, d.peer, reason, err)
	}
}

// deliver decodes a payload, into the room if there is one, and adds its
// record to the Sink; it returns why not.
func (d *datagramDecoder) deliver(p []byte) (Reason, error) {
	if d.room == nil {
		return d.s.deliver(d.proto, &d.cp, d.listener, d.peer, p)
	}
	e, err := decodeSafely(func() (*record.Entry, error) { return d.proto.into(d.s, d.room, 0, p) })
	if err != nil {
		return reasonOf(err), err
	}
	return d.s.hand(&d.cp, e, d.listener, d.peer)
}

func addrName(a net.Addr) string {
	if a == nil || a.String() == "" || a.String() == "@" {
		return "unix peer"
	}
	return a.String()
}

// readFromReader is the datagramReader of any net.PacketConn: one
// datagram per read.
type readFromReader struct {
	pc   net.PacketConn
	buf  []byte
	n    int
	addr net.Addr
}

func newReadFromReader(pc net.PacketConn, size int) *readFromReader {
	return &readFromReader{pc: pc, buf: make([]byte, size)}
}

func (r *readFromReader) read() (n int, more bool, err error) {
	r.n, r.addr, err = r.pc.ReadFrom(r.buf)
	if err != nil {
		return 0, false, err
	}
	return 1, false, nil
}

func (r *readFromReader) datagram(int) ([]byte, net.Addr) { return r.buf[:r.n], r.addr }
func (*readFromReader) drops() uint64                     { return 0 }
func (*readFromReader) close()                            {}
