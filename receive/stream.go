package receive

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"unsafe"

	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/record"
)

// chunkSize is the room for frames in each of a connection's two chunks:
// frames up to half of it are copied in, larger ones handed over in the
// reader's own buffer.
const chunkSize = 8 << 10

// Records of a chunk are decoded into room the chunk keeps, when the Sink
// is a Printer (which formats a record in Add and keeps none of it): the
// first roomSlots of its records (a chunk of 200-byte syslog messages
// holds about 21), each keeping an Attrs array of up to maxKeptAttrs for
// the next. So a record costs no Entry of its own, and the collector
// less work.
const (
	roomSlots    = 32
	maxKeptAttrs = 16
)

// chunkCharge is what a chunk is charged: its frames, the records
// decoded from them (their strings), and its room.
const chunkCharge = 2*chunkSize + roomSlots*int64(max(unsafe.Sizeof(syslog.Message{}),
	unsafe.Sizeof(record.Entry{})+maxKeptAttrs*unsafe.Sizeof(slog.Attr{})))

// A chunk is a run of frames that a connection's reader has read and
// decoded, handed to the connection's writer, which adds the records to
// the Sink: one connection works on two cores, reading and parsing on
// one, printing on the other. The records may refer to the frames'
// bytes, so a chunk is reused only once its records are added.
type chunk struct {
	done  []decoded        // each frame's record, or why it has none (streams)
	data  []byte           // the frames' payloads, back to back
	ends  []int            // where each ends in data
	addrs []net.Addr       // each datagram's sender (datagrams only)
	own   bool             // data is the chunk's, charged to the connection; else the reader's buffer, for one large frame
	ents  []record.Entry   // room for netlog frames' records, made when first used
	msgs  []syslog.Message // room for syslog messages' records, made when first used
	idle  bool             // the connection had nothing more to read when it was handed over: commit
}

func (c *chunk) add(p []byte) {
	c.data = append(c.data, p...)
	c.ends = append(c.ends, len(c.data))
}

// last is the last frame added.
func (c *chunk) last() []byte {
	start := 0
	if n := len(c.ends); n > 1 {
		start = c.ends[n-2]
	}
	return c.data[start:]
}

func (c *chunk) reset() {
	clear(c.done)
	for i := range c.ents {
		if cap(c.ents[i].Attrs) > maxKeptAttrs {
			c.ents[i].Attrs = nil
		}
	}
	c.data, c.ends, c.done, c.idle = c.data[:0], c.ends[:0], c.done[:0], false
}

// decoded is a frame's record, or why it has none.
type decoded struct {
	e      *record.Entry
	reason Reason
	err    error
}

// decoded decodes a frame.
func (s *Server) decoded(p *protocol, payload []byte) decoded {
	e, reason, err := s.decode(p, payload)
	return decoded{e, reason, err}
}

// decodedIn decodes c's last frame, into c's room if the Sink is
// Transient and room is left: the writer adds the record to the Sink before
// it gives c back to be reused.
func (s *Server) decodedIn(p *protocol, c *chunk) decoded {
	i, payload := len(c.done), c.last()
	if _, transient := s.Sink.(Transient); !transient || p.into == nil || i >= roomSlots {
		return s.decoded(p, payload)
	}
	e, err := decodeSafely(func() (*record.Entry, error) { return p.into(s, c, i, payload) })
	if err != nil {
		return decoded{nil, reasonOf(err), err}
	}
	return decoded{e, "", nil}
}

// pipeline is the hand-off between a connection's reader and its writer.
// The reader fills one chunk while the writer works on the other; it
// waits when both are taken.
type pipeline struct {
	work      chan *chunk   // to the writer
	free      chan *chunk   // back from it
	quit      chan struct{} // closed when the writer stops taking records
	done      chan struct{} // closed when the writer has finished
	cur       *chunk        // being filled
	spare     []*chunk      // free, back from the writer
	made      int           // chunks of its own made, each charged chunkCharge
	committed bool          // the last hand-over asked for a commit, and no frame came since
	failed    bool          // the writer stopped: a record was refused, or the Sink failed
	sinkErr   bool          // it was the Sink: the connection must not end as if acknowledged
}

// startPipeline starts cn's writer.
func (s *Server) startPipeline(cn *conn) *pipeline {
	pl := &pipeline{work: make(chan *chunk), free: make(chan *chunk, 3), quit: make(chan struct{}), done: make(chan struct{})}
	go s.writeChunks(cn, pl)
	return pl
}

// writeChunks adds the records of each chunk to the Sink, in order, and
// commits when the reader had nothing more to read, and at the end. The
// first frame without a record stops it: the connection is closed.
func (s *Server) writeChunks(cn *conn, pl *pipeline) {
	defer close(pl.done)
	var cp commitPoint
	stop := func(reason Reason, err error) {
		s.refuse(cn.listener, cn.peer, reason, err)
		pl.failed, pl.sinkErr = true, reason == ReasonSink
		close(pl.quit)
	}
	for c := range pl.work {
		for _, d := range c.done {
			if pl.failed {
				break
			}
			if d.err == nil {
				d.reason, d.err = s.hand(&cp, d.e, cn.listener, cn.peer)
			}
			if d.err != nil {
				stop(d.reason, d.err)
			}
		}
		if c.idle && !pl.failed {
			if err := s.commit(context.Background(), &cp); err != nil {
				stop(ReasonSink, err)
			}
		}
		pl.free <- c
	}
	if !pl.failed {
		if err := s.commit(context.Background(), &cp); err != nil {
			stop(ReasonSink, err)
		}
	}
}

// send hands c to the writer; false if the writer has stopped. While it
// waits it takes back what the writer gives back: the writer may be
// waiting to give back a chunk (free is full of idle hand-overs' empty
// chunks) before it takes the next.
func (pl *pipeline) send(c *chunk) bool {
	for {
		select {
		case pl.work <- c:
			return true
		case b := <-pl.free:
			pl.back(b)
		case <-pl.quit:
			return false
		}
	}
}

// handOver sends the chunk being filled, if it holds frames. An idle
// hand-over asks the writer to commit, even with no frames, unless the
// last one did and no frame came since.
func (pl *pipeline) handOver(idle bool) bool {
	c := pl.cur
	switch {
	case c != nil && len(c.done) > 0:
		pl.cur = nil
	case !idle || pl.committed:
		return true
	default:
		c = &chunk{}
	}
	c.idle, pl.committed = idle, idle
	return pl.send(c)
}

// take returns a free chunk: one back from the writer, a new one while
// the connection has fewer than two, else the next the writer gives back.
func (s *Server) take(cn *conn, pl *pipeline) (*chunk, error) {
	for {
		if n := len(pl.spare); n > 0 {
			c := pl.spare[n-1]
			pl.spare = pl.spare[:n-1]
			return c, nil
		}
		select {
		case c := <-pl.free:
			pl.back(c)
			continue
		default:
		}
		if pl.made < 2 {
			if err := s.charge(cn, chunkCharge); err != nil {
				return nil, err
			}
			pl.made++
			return &chunk{data: make([]byte, 0, chunkSize), own: true}, nil
		}
		select {
		case c := <-pl.free:
			pl.back(c)
		case <-pl.quit:
			return nil, errStopped
		}
	}
}

// errStopped ends a connection's reading when its writer has stopped
// (and reported why).
var errStopped = errors.New("writer stopped")

// back keeps a chunk the writer gave back, if it is the connection's own.
func (pl *pipeline) back(c *chunk) {
	if c.own {
		c.reset()
		pl.spare = append(pl.spare, c)
	}
}

// large hands over the record of one frame too large to copy, which may
// refer to the reader's own buffer, and waits until it is added: the
// reader reuses the buffer.
func (pl *pipeline) large(d decoded) bool {
	if !pl.handOver(false) {
		return false
	}
	c := &chunk{done: []decoded{d}}
	if !pl.send(c) {
		return false
	}
	for {
		select {
		case b := <-pl.free:
			pl.back(b)
			if b == c {
				return true
			}
		case <-pl.quit:
			return false
		}
	}
}

// finish hands over what is left, waits for the writer to end, and
// gives back what the chunks were charged.
func (s *Server) finish(cn *conn, pl *pipeline) {
	pl.handOver(true)
	close(pl.work)
	<-pl.done
	s.uncharge(int64(pl.made) * chunkCharge)
	if pl.sinkErr { // not written: reset, so that a netlog handler does not take the close as an acknowledgment
		c := cn.Conn
		if tc, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS
			c = tc.NetConn()
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
	}
}
