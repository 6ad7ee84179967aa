package receive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"unsafe"

	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/record"
)

// A connection's reader copies frames of up to maxCopied bytes into its
// chunks, and hands larger ones over in its own buffer. A chunk is
// handed over to the decoders once it holds its size's bytes or frames
// (or the reader has nothing more to read): each hand-over costs a
// wake-up of the goroutine taking it, which on a VM takes 20–50 µs, so a
// busy connection's chunks must hold enough records to be worth it,
// while the chunks of many connections, together, must not hold much.
// connChunks is how many chunks a connection has at most: one being
// filled by the reader, one waiting for each decoder and one being
// decoded, one being printed.
const (
	maxCopied  = 16 << 10
	decoders   = 2
	connChunks = decoders + 3
)

// A chunkSize is how much a chunk holds before it is handed over: bytes
// of frames, or frames, which is also how many records its room holds.
type chunkSize struct{ bytes, frames int }

// The sizes of chunk a connection fills: solo while at most soloConns
// connections are active, deep while at most deepConns are, else
// shallow (and then only decoders+1 chunks). Measured with the bench's
// pickle and syslog rows on one connection, two cores: with deep chunks,
// 418,503–675,860 pickles/s and 557,256–721,829 syslog messages/s;
// with solo chunks 568,134–1,036,664 and 964,847–1,089,755 (512 KiB
// did no better). Many connections keep the cores busy by themselves,
// and what each holds adds to the peak RSS: 64 connections of syslog
// peaked at 52.3–53.7 MiB with deep chunks and 39.6–43.6 with shallow
// ones, which also ran faster (1,314,625–1,328,306 records/s against
// 827,403–1,048,889).
var (
	soloChunk    = chunkSize{128 << 10, 256}
	deepChunk    = chunkSize{16 << 10, 32}
	shallowChunk = chunkSize{4 << 10, 32}
)

const (
	soloConns = 2
	deepConns = 16
)

// charge is what a chunk of size z is charged: its frames (up to
// maxCopied past z.bytes), the records decoded from them (their
// strings), and its room.
func (z chunkSize) charge() int64 {
	return 2*int64(z.bytes+maxCopied) + int64(z.frames)*roomSize
}

// roomSize is the room of a record in a chunk: a syslog message, or an
// Entry keeping an Attrs array of up to maxKeptAttrs for the next.
const roomSize = int64(max(unsafe.Sizeof(syslog.Message{}),
	unsafe.Sizeof(record.Entry{})+maxKeptAttrs*unsafe.Sizeof(slog.Attr{})))

// Records of a chunk are decoded into room the chunk keeps, when the Sink
// is a Printer (which formats a record in Add and keeps none of it). So
// a record costs no Entry of its own, and the collector less work.
const maxKeptAttrs = 16

// size is the size of chunk a connection fills now.
func (s *Server) size() chunkSize { return sizeFor(s.lim.active.Load()) }

// sizeFor is the size of chunk a connection fills while n are active.
func sizeFor(n int64) chunkSize {
	switch {
	case n <= soloConns:
		return soloChunk
	case n <= deepConns:
		return deepChunk
	}
	return shallowChunk
}

// full reports whether the chunk being filled is to be handed over: it
// holds its size's bytes, or frames, or answers (a RELP session's
// commands that are not messages have only an answer).
func (pl *pipeline) full() bool {
	c := pl.cur
	return len(c.data) >= c.fill.bytes || max(len(c.ends), len(c.answers)) >= c.fill.frames
}

// due reports whether the chunk being filled, handed over now, is to be
// committed: a RELP session's, once relpBatch answers wait for a commit
// with it, so that they go out while the reader reads on.
func (pl *pipeline) due() bool {
	return pl.acks != nil && pl.unanswered+len(pl.cur.answers) >= relpBatch
}

// A chunk is a run of frames that a connection's reader has read and
// deframed, handed to the connection's decoder, which decodes them, and
// then to its writer, which adds the records to the Sink: one
// connection works on more than one core, reading on one goroutine,
// decoding on a second, printing on a third. The records may refer to
// the frames' bytes, so a chunk is reused only once its records are
// added.
type chunk struct {
	size    chunkSize        // what it is charged for
	fill    chunkSize        // what it is filled to now: at most size
	done    []decoded        // each frame's record, or why it has none
	data    []byte           // the frames' payloads, back to back
	ends    []int            // where each ends in data
	own     bool             // data is the chunk's, charged to the connection; else the reader's buffer, for one large frame
	ents    []record.Entry   // room for netlog frames' records, made when first used
	msgs    []syslog.Message // room for syslog messages' records, made when first used: their strings are slices of data
	answers []relpAnswer     // a RELP session's: every command's answer, in order, a message's with its frame
	idle    bool             // the connection had nothing more to read when it was handed over: commit
}

func (c *chunk) add(p []byte) {
	c.data = append(c.data, p...)
	c.ends = append(c.ends, len(c.data))
}

// returned reports whether the writer gives c back to the reader: a
// chunk of the connection's own, to be reused, or the chunk of one large
// frame, which the reader waits for. An idle hand-over's empty chunk is
// not: so the writer never has more to give back than free holds, and
// never waits for the reader — which may be waiting for the peer, with
// chunks behind the writer's not yet added, or for the writer to end.
func (c *chunk) returned() bool { return c.own || len(c.done) > 0 }

func (c *chunk) reset() {
	clear(c.done)
	for i := range c.ents {
		if cap(c.ents[i].Attrs) > maxKeptAttrs {
			c.ents[i].Attrs = nil
		}
	}
	c.data, c.ends, c.done, c.idle = c.data[:0], c.ends[:0], c.done[:0], false
	c.answers = c.answers[:0]
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

// decodeChunk decodes c's frames, into c's room if
// the Sink is Transient: the writer adds the records to the Sink before
// it gives c back to be reused. A chunk of one large frame comes decoded.
func (s *Server) decodeChunk(p *protocol, c *chunk) {
	_, transient := s.Sink.(Transient)
	room := transient && p.into != nil
	start := 0
	for i, end := range c.ends {
		payload := c.data[start:end]
		start = end
		if !room || i >= c.size.frames {
			c.done = append(c.done, s.decoded(p, payload))
			continue
		}
		e, err := decodeSafely(func() (*record.Entry, error) { return p.into(s, c, i, payload) })
		if err != nil {
			c.done = append(c.done, decoded{nil, reasonOf(err), err})
		} else {
			c.done = append(c.done, decoded{e, "", nil})
		}
	}
}

// pipeline is the hand-off between a connection's reader, its decoders
// and its writer. The reader hands its chunks to the decoders in turn,
// and the writer takes them back from the decoders in the same turn, so
// that the records reach the Sink in the order they were read. The
// reader fills one chunk while the decoders and the writer work on the
// ones before; it waits when all are taken.
type pipeline struct {
	work       [decoders]chan *chunk // to each decoder
	decoded    [decoders]chan *chunk // from each decoder to the writer
	sent       int                   // chunks handed over: the next goes to work[sent%decoders]
	free       chan *chunk           // back from the writer
	quit       chan struct{}         // closed when the writer stops taking records
	done       chan struct{}         // closed when the decoders and the writer have finished
	cur        *chunk                // being filled
	spare      []*chunk              // free, back from the writer
	made       int                   // chunks of its own made
	charged    int64                 // what they are charged
	committed  bool                  // the last hand-over asked for a commit, and no frame came since
	acks       *relpAcks             // a RELP session's answers, which the writer sends; else nil
	unanswered int                   // answers handed over since the last hand-over that asked for a commit
	failed     bool                  // the writer stopped: a record was refused, or the Sink failed
	sinkErr    bool                  // it was the Sink: the connection must not end as if acknowledged
}

// startPipeline starts cn's decoders and writer, for frames of protocol p.
func (s *Server) startPipeline(p *protocol, cn *conn) *pipeline {
	// free holds every chunk given back: connChunks of the connection's
	// own, and one large frame's (returned).
	pl := &pipeline{free: make(chan *chunk, connChunks+1), quit: make(chan struct{}), done: make(chan struct{})}
	if p.answered {
		pl.acks = newRELPAcks(s, cn)
	}
	for i := range decoders {
		pl.work[i], pl.decoded[i] = make(chan *chunk, 1), make(chan *chunk, 1)
		go s.decodeChunks(p, pl, i)
	}
	go s.writeChunks(cn, pl)
	return pl
}

// decodeChunks is decoder i: it decodes the frames of each chunk handed
// to it and passes the chunk on to the writer, until the reader has
// handed over its last. Once the writer has stopped it decodes none.
func (s *Server) decodeChunks(p *protocol, pl *pipeline, i int) {
	defer close(pl.decoded[i])
	for c := range pl.work[i] {
		select {
		case <-pl.quit:
			continue
		default:
		}
		s.decodeChunk(p, c)
		select {
		case pl.decoded[i] <- c:
		case <-pl.quit:
		}
	}
}

// writeChunks adds the records of each chunk to the Sink, in order, and
// commits when the reader had nothing more to read (or a RELP session's
// answers are due), and at the end. The first frame of a stream without
// a record stops it: the connection is closed.
func (s *Server) writeChunks(cn *conn, pl *pipeline) {
	defer close(pl.done)
	var cp commitPoint
	deferred := 0  // commits asked for and not made
	defer func() { // the decoders have ended once these are closed
		for _, d := range pl.decoded {
			for range d {
			}
		}
	}()
	for i := 0; ; i++ {
		c, ok := <-pl.decoded[i%decoders]
		if !ok { // the reader has handed over its last chunk, and it came
			break
		}
		if pl.failed { // the reader takes nothing back now
			continue
		}
		if pl.acks != nil {
			pl.acks.add(s, cn, &cp, c)
		} else if reason, err := s.addChunk(cn, &cp, c); err != nil {
			s.stop(cn, pl, reason, err)
		}
		if c.idle && !pl.failed {
			// With the next chunk decoded already, the commit waits for
			// it (up to connChunks in a row): a busy connection commits,
			// and a RELP session answers, once for several.
			if deferred < connChunks && len(pl.decoded[(i+1)%decoders]) > 0 {
				deferred++
			} else {
				s.commitAnswer(cn, pl, &cp)
				deferred = 0
			}
		}
		if !pl.failed && c.returned() {
			pl.free <- c
		}
	}
	if !pl.failed {
		s.commitAnswer(cn, pl, &cp)
	}
}

// addChunk adds c's records to the Sink, up to the first frame without
// one, and reports why that has none.
func (s *Server) addChunk(cn *conn, cp *commitPoint, c *chunk) (Reason, error) {
	for _, d := range c.done {
		if d.err == nil {
			d.reason, d.err = s.hand(cp, d.e, cn.listener, cn.peer)
		}
		if d.err != nil {
			return d.reason, d.err
		}
	}
	return "", nil
}

// stop reports why the writer stops taking records, and stops it: the
// reader stops, and the connection is closed.
func (s *Server) stop(cn *conn, pl *pipeline, reason Reason, err error) {
	s.refuse(cn.listener, cn.peer, reason, err)
	pl.sinkErr = reason == ReasonSink
	pl.halt()
}

func (pl *pipeline) halt() {
	pl.failed = true
	close(pl.quit)
}

// commitAnswer commits what the writer has added, and sends a RELP
// session's answers: a stream whose Sink fails is stopped, a session's
// messages are answered "500 not delivered", and a session whose peer
// does not take its answers is stopped.
func (s *Server) commitAnswer(cn *conn, pl *pipeline, cp *commitPoint) {
	err := s.commit(context.Background(), cp)
	switch {
	case pl.acks == nil:
		if err != nil {
			s.stop(cn, pl, ReasonSink, err)
		}
		return
	case err != nil:
		s.refuse(cn.listener, cn.peer, ReasonSink, err)
	}
	if werr := pl.acks.send(err == nil); werr != nil {
		if cn.ctx.Err() != nil { // the server is stopping: not the peer's fault
			pl.halt()
			return
		}
		s.stop(cn, pl, ReasonSlow, fmt.Errorf("writing acknowledgments: %w", werr))
	}
}

// send hands c to the next decoder; false if the writer has stopped.
// While it waits it takes back what the writer gives back.
func (pl *pipeline) send(c *chunk) bool {
	for {
		select {
		case pl.work[pl.sent%decoders] <- c:
			pl.sent++
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
	case c != nil && (len(c.ends) > 0 || len(c.answers) > 0):
		pl.cur = nil
	case !idle || pl.committed:
		return true
	default:
		c = &chunk{}
	}
	c.idle, pl.committed = idle, idle
	pl.unanswered += len(c.answers)
	if idle {
		pl.unanswered = 0
	}
	return pl.send(c)
}

// take returns a free chunk: one back from the writer, a new one while
// the connection has fewer than connChunks, else the next the writer
// gives back. Only the first chunk waits for the memory budget: with one
// in hand, a connection waits for it to come back instead, so that
// connections that each hold some chunks and want more do not wait on
// one another for the budget.
func (s *Server) take(cn *conn, pl *pipeline) (*chunk, error) {
	for {
		if n := len(pl.spare); n > 0 {
			c := pl.spare[n-1]
			pl.spare = pl.spare[:n-1]
			return s.fit(pl, c), nil
		}
		select {
		case c := <-pl.free:
			pl.back(c)
			continue
		default:
		}
		if c, err := s.newChunk(cn, pl); c != nil || err != nil {
			return c, err
		}
		select {
		case c := <-pl.free:
			pl.back(c)
		case <-pl.quit:
			return nil, errStopped
		}
	}
}

// fit sets what c is filled to: the size the connection fills now, if
// c is charged for it, or the budget has room now for the difference;
// else c's own size.
func (s *Server) fit(pl *pipeline, c *chunk) *chunk {
	z := s.size()
	if more := z.charge() - c.size.charge(); more > 0 {
		if !s.tryCharge(more) {
			z = c.size
		} else {
			c.size, pl.charged = z, pl.charged+more
		}
	}
	c.fill = z
	return c
}

// newChunk makes a chunk of the connection's own, charged to the budget
// for the size the connection fills now: the first when it fits, the
// others only if the connection has fewer than connChunks (decoders+1
// when shallow) and they fit now, else none. Its data starts at 8 KiB
// and grows as frames need.
func (s *Server) newChunk(cn *conn, pl *pipeline) (*chunk, error) {
	z := s.size()
	switch {
	case pl.made == 0:
		if err := s.charge(cn, z.charge()); err != nil {
			return nil, err
		}
	case pl.made == connChunks || pl.made > decoders && z == shallowChunk || !s.tryCharge(z.charge()):
		return nil, nil
	}
	pl.made++
	pl.charged += z.charge()
	return &chunk{size: z, fill: z, data: make([]byte, 0, 8<<10), own: true}, nil
}

// shed gives back to the budget the chunks cn's reader holds spare,
// before it waits for the budget: so that a connection never waits for
// memory that only it holds, and busy connections that each keep chunks
// they are not using now do not starve the others. It reports whether
// it gave back any. Only cn's reader, the one that charges, calls it.
func (s *Server) shed(cn *conn) bool {
	pl := cn.pl
	if pl == nil {
		return false
	}
	for drained := false; !drained; {
		select {
		case c := <-pl.free:
			pl.back(c)
		default:
			drained = true
		}
	}
	n := len(pl.spare)
	for _, c := range pl.spare {
		z := c.size.charge()
		pl.charged -= z
		s.uncharge(z)
	}
	pl.spare = pl.spare[:0]
	pl.made -= n
	return n > 0
}

// freed is the channel on which the writer gives chunks back; nil (a
// channel that never delivers) for a connection with no pipeline.
func (pl *pipeline) freed() chan *chunk {
	if pl == nil {
		return nil
	}
	return pl.free
}

// end tells the decoders that the reader has handed over its last chunk.
func (pl *pipeline) end() {
	for _, w := range pl.work {
		close(w)
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
// refer to the reader's own buffer, with its answer if fr has one, and
// waits until it is added: the reader reuses the buffer.
func (pl *pipeline) large(d decoded, fr frameReader) bool {
	if !pl.handOver(false) {
		return false
	}
	c := &chunk{done: []decoded{d}}
	moveAnswers(fr, c)
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
	pl.end()
	<-pl.done
	s.uncharge(pl.charged)
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
