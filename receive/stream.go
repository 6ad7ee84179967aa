package receive

import (
	"context"
	"errors"
	"net"
)

// chunkSize is the room for frames in each of a connection's two chunks:
// frames up to half of it are copied in, larger ones handed over in the
// reader's own buffer.
const chunkSize = 8 << 10

// A chunk is a run of frames that a connection's reader hands to its
// decoder, so that one connection reads and decodes on two cores.
type chunk struct {
	data  []byte     // the frames' payloads, back to back
	ends  []int      // where each ends in data
	addrs []net.Addr // each datagram's sender (datagrams only)
	own   bool       // data is the chunk's, charged to the connection; else the reader's buffer, for one large frame
	idle  bool       // the connection had nothing more to read when it was handed over: commit
}

func (c *chunk) add(p []byte) {
	c.data = append(c.data, p...)
	c.ends = append(c.ends, len(c.data))
}

func (c *chunk) reset() { c.data, c.ends, c.idle = c.data[:0], c.ends[:0], false }

// pipeline is the hand-off between a connection's reader and its decoder.
// The reader fills one chunk while the decoder works on the other; it
// waits when both are taken.
type pipeline struct {
	work      chan *chunk   // to the decoder
	free      chan *chunk   // back from it
	quit      chan struct{} // closed when the decoder stops taking records
	done      chan struct{} // closed when the decoder has finished
	cur       *chunk        // being filled
	spare     []*chunk      // free, back from the decoder
	made      int           // chunks of its own made, each charged 2·chunkSize
	committed bool          // the last hand-over asked for a commit, and no frame came since
	failed    bool          // the decoder stopped: a record was refused, or the Sink failed
	sinkErr   bool          // it was the Sink: the connection must not end as if acknowledged
}

// startPipeline starts cn's decoder.
func (s *Server) startPipeline(p *protocol, cn *conn) *pipeline {
	pl := &pipeline{work: make(chan *chunk), free: make(chan *chunk, 3), quit: make(chan struct{}), done: make(chan struct{})}
	go s.decodeChunks(p, cn, pl)
	return pl
}

// decodeChunks decodes and adds the records of each chunk, in order, and
// commits when the reader had nothing more to read and at the end.
func (s *Server) decodeChunks(p *protocol, cn *conn, pl *pipeline) {
	defer close(pl.done)
	var cp commitPoint
	stop := func(reason Reason, err error) {
		s.refuse(cn.listener, cn.peer, reason, err)
		pl.failed, pl.sinkErr = true, reason == ReasonSink
		close(pl.quit)
	}
	for c := range pl.work {
		start := 0
		for _, end := range c.ends {
			if pl.failed {
				break
			}
			if reason, err := s.deliver(p, &cp, c.data[start:end]); err != nil {
				stop(reason, err)
			}
			start = end
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

// send hands c to the decoder; false if the decoder has stopped.
func (pl *pipeline) send(c *chunk) bool {
	select {
	case pl.work <- c:
		return true
	case <-pl.quit:
		return false
	}
}

// handOver sends the chunk being filled, if it holds frames. An idle
// hand-over asks the decoder to commit, even with no frames, unless the
// last one did and no frame came since.
func (pl *pipeline) handOver(idle bool) bool {
	c := pl.cur
	switch {
	case c != nil && len(c.ends) > 0:
		pl.cur = nil
	case !idle || pl.committed:
		return true
	default:
		c = &chunk{}
	}
	c.idle, pl.committed = idle, idle
	return pl.send(c)
}

// take returns a free chunk: one back from the decoder, a new one while
// the connection has fewer than two, else the next the decoder gives back.
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
			if err := s.charge(cn, 2*chunkSize); err != nil {
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

// errStopped ends a connection's reading when its decoder has stopped
// (and reported why).
var errStopped = errors.New("decoder stopped")

// back keeps a chunk the decoder gave back, if it is the connection's own.
func (pl *pipeline) back(c *chunk) {
	if c.own {
		c.reset()
		pl.spare = append(pl.spare, c)
	}
}

// large hands over one frame too large to copy, in the reader's own
// buffer, and waits until it is decoded: the reader reuses the buffer.
func (pl *pipeline) large(payload []byte) bool {
	if !pl.handOver(false) {
		return false
	}
	c := &chunk{data: payload, ends: []int{len(payload)}}
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

// finish hands over what is left, waits for the decoder to end, and
// gives back what the chunks were charged.
func (s *Server) finish(cn *conn, pl *pipeline) {
	pl.handOver(true)
	close(pl.work)
	<-pl.done
	s.uncharge(int64(pl.made) * 2 * chunkSize)
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
