// Package receive accepts the frames that Python's SocketHandler and
// DatagramHandler send, and netlog's handlers too, decodes each payload
// (pickle or JSON, detected per frame) into a record.Entry and hands it to
// a Sink.
//
// Nothing a peer sends can make the receiver run code or allocate beyond
// MaxFrame: a length prefix over the limit is refused before anything is
// read into memory, pickles are decoded as inert data (package pickle), and
// a bad frame is reported with the peer's address and counted. The
// connection that sent it is closed; every other peer keeps being served.
package receive

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/netlog-go/netlog/internal/dedup"
	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// DefaultMaxFrame is the default limit on a frame's payload: 1 MiB.
const DefaultMaxFrame = 1 << 20

// DefaultDrain is how long a stopping server waits for more from a peer
// that has sent nothing for that long; each frame that arrives extends
// the wait, up to DrainCap. A netlog handler closes its side as soon as
// it has seen the server's, so with netlog peers the stop takes only as
// long as reading what they sent; a peer that never closes (Python's
// handlers) holds it for Drain after its last frame, or DrainCap if it
// keeps sending.
const DefaultDrain = 2 * time.Second

// DrainCap bounds a stop: no connection is read for longer than the
// larger of DrainCap and ten times Drain after the stop began.
const DrainCap = 10 * time.Second

// Sink takes decoded records. Write is called from many goroutines.
type Sink interface {
	Write(e *record.Entry) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(e *record.Entry) error

// Write calls f(e).
func (f SinkFunc) Write(e *record.Entry) error { return f(e) }

// Report describes a frame or connection the server refused.
type Report struct {
	Listener string // "tcp 127.0.0.1:9020"
	Peer     string // the sender's address
	Reason   Reason
	Err      error
}

func (r Report) String() string {
	return fmt.Sprintf("refused %s frame from %s on %s: %v", r.Reason, r.Peer, r.Listener, r.Err)
}

// Reason classifies a refusal.
type Reason string

// The reasons a frame is refused.
const (
	ReasonTooLarge  Reason = "oversized"   // length prefix over MaxFrame
	ReasonTruncated Reason = "truncated"   // stream ended inside a frame
	ReasonMismatch  Reason = "mismatched"  // datagram length disagrees with its prefix
	ReasonUnsafe    Reason = "unsafe"      // pickle asks to import, call or build
	ReasonMalformed Reason = "malformed"   // payload does not decode to a record
	ReasonAmplified Reason = "amplified"   // payload decodes to more than its budget (record.Budget)
	ReasonRead      Reason = "unreadable"  // read error on the connection
	ReasonHandshake Reason = "handshake"   // TLS handshake failed
	ReasonSink      Reason = "undelivered" // the Sink returned an error
)

// Server receives records. Set its fields before the first Serve call.
type Server struct {
	Sink     Sink
	MaxFrame int           // payload limit; 0 means DefaultMaxFrame
	Drain    time.Duration // 0 means DefaultDrain; see DrainCap
	// OnRefuse is told of every refusal; refusals are counted in Stats
	// whether or not it is set. The library writes nowhere by itself.
	OnRefuse func(Report)
	// MaxConns bounds the stream connections served at once, on all
	// listeners (default DefaultMaxConns): at the limit, the listeners
	// stop accepting and new connections wait in the kernel's backlog
	// until one ends. MaxConnsPerPeer bounds those from one IP address
	// (default MaxConns/64, at least 1); one over it is reset at once and
	// refused as ReasonBusy.
	MaxConns, MaxConnsPerPeer int
	// HandshakeTimeout closes a connection that has not started its
	// first frame (TLS handshake included) that long after it was
	// accepted (default DefaultHandshakeTimeout), and counts it in
	// Stats.SilentClosed; from its first byte, a frame has FrameTimeout.
	// IdleTimeout closes a connection on which no frame starts for that
	// long (default DefaultIdleTimeout; counted, not reported: a netlog
	// handler reconnects when it next writes).
	// FrameTimeout bounds the arrival of one frame once its first byte is
	// in (default DefaultFrameTimeout); a slower one is refused as
	// ReasonSlow. It is also how long a RELP peer may leave its
	// acknowledgments unread.
	HandshakeTimeout, IdleTimeout, FrameTimeout time.Duration
	// MaxMemory is the budget of the buffers of all stream connections
	// (default DefaultMaxMemory): each connection's read buffer (from
	// its first byte on: 64 KiB, or 16 KiB if more than two connections
	// are active then), and twice each frame being read and decoded.
	// When it is spent, reading waits (the peers' data waits in the
	// kernel) instead of memory growing; a frame that needs more than all
	// of it is refused as ReasonTooLarge.
	MaxMemory int64
	// OnAcceptError is told of failed accepts (out of descriptors, …),
	// at most once a second per listener; the listener retries after a
	// backoff. They are counted in Stats whether or not it is set.
	OnAcceptError func(error)
	// SyslogSingleLine turns off the joining of lines on LF-framed syslog
	// streams: each line is then a message of its own. By default, a line
	// that does not begin with <PRI> continues the message before it
	// (docs/syslog-framing.md).
	SyslogSingleLine bool
	// ReadBuffer is the socket receive buffer, in bytes, asked for on
	// datagram sockets (default PacketBuffer): the datagrams that can
	// wait in the kernel while the server is busy. When the kernel grants
	// less (Linux caps it at net.core.rmem_max unless the process has
	// CAP_NET_ADMIN), OnWarning is told.
	ReadBuffer int
	// OnWarning is told of conditions that make the server lose more
	// than it would otherwise, such as a smaller receive buffer than
	// asked for.
	OnWarning func(error)
	// Dedup, if above 0, drops a record whose sender numbers its records
	// (netlog's Options.Sequence) if its number is among the last Dedup
	// its sender's instance sent and was seen already: a duplicate that
	// at-least-once delivery sent again. It is counted in
	// Stats.Duplicates, and acknowledged without reaching the Sink, once
	// every record the Sink took before it (its first copy among them)
	// is committed.
	// DedupIDs bounds the instances followed at once (default 1,024),
	// each taking Dedup bits; a new one beyond them evicts the one seen
	// least recently.
	Dedup, DedupIDs int

	dedupOnce                              sync.Once
	dedup                                  *dedup.Filter
	lastTicket                             atomic.Uint64 // the highest a Committer gave
	lim                                    limits
	mem                                    memory
	connections, frames, records, unparsed atomic.Uint64
	joinedLines, joinCuts                  atomic.Uint64
	kernelDrops                            atomic.Uint64
	refused                                sync.Map // Reason → *atomic.Uint64
}

// Stats are a server's counters.
type Stats struct {
	Connections uint64            // stream connections accepted
	Frames      uint64            // frames read, good or bad
	Records     uint64            // records handed to the Sink (those it failed are also in Refused)
	Unparsed    uint64            // of Records, syslog messages that did not parse, passed on raw
	Refused     map[Reason]uint64 // refusals by reason
	IdleClosed  uint64            // connections closed after IdleTimeout without a frame
	// SilentClosed counts connections closed after HandshakeTimeout
	// without having sent a byte.
	SilentClosed uint64
	AcceptErrors uint64 // failed accepts, retried
	Active       int64  // stream connections being served now
	MemoryUsed   int64  // bytes of MaxMemory charged now
	MemoryWaits  uint64 // times a connection waited for memory
	// JoinedLines counts the lines of LF-framed syslog streams joined to
	// the message before them; JoinCuts, the messages that joining took
	// to MaxFrame, cut there, the rest delivered as further records.
	JoinedLines, JoinCuts uint64
	// KernelDrops counts datagrams the kernel dropped because a socket's
	// receive buffer was full, as it reports them (SO_MEMINFO, read
	// whenever the socket runs empty and every 32 full batches; Linux
	// only, 0 elsewhere).
	KernelDrops uint64
	// Duplicates counts the records Dedup dropped; DedupEvicted, the
	// sender instances it forgot to follow new ones; DedupStale, the
	// numbered records older than their sender's window, passed on.
	Duplicates, DedupEvicted, DedupStale uint64
	Listeners                            map[string]ListenerStats
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Connections: s.connections.Load(), Frames: s.frames.Load(),
		Records: s.records.Load(), Unparsed: s.unparsed.Load(), Refused: map[Reason]uint64{},
		JoinedLines: s.joinedLines.Load(), JoinCuts: s.joinCuts.Load(),
		IdleClosed: s.lim.idleClosed.Load(), SilentClosed: s.lim.silentClosed.Load(),
		AcceptErrors: s.lim.acceptErrors.Load(), Active: s.lim.active.Load(),
		MemoryUsed: s.mem.used.Load(), MemoryWaits: uint64(s.mem.waits.Load()),
		KernelDrops: s.kernelDrops.Load(),
		Listeners:   map[string]ListenerStats{},
	}
	if f := s.dedupFilter(); f != nil {
		n := f.Counts()
		st.Duplicates, st.DedupEvicted, st.DedupStale = n.Duplicates, n.Evicted, n.Stale
	}
	s.lim.mu.Lock()
	for name, l := range s.lim.listeners {
		st.Listeners[name] = ListenerStats{Accepted: uint64(l.accepted.Load()), Active: l.active.Load(), AcceptErrors: l.acceptErrors.Load()}
	}
	s.lim.mu.Unlock()
	s.refused.Range(func(k, v any) bool {
		st.Refused[k.(Reason)] = v.(*atomic.Uint64).Load()
		return true
	})
	return st
}

// Decode decodes one frame's payload: a JSON object if it starts with '{',
// else a pickle. The Entry does not refer to payload.
func Decode(payload []byte) (*record.Entry, error) {
	if len(payload) > 0 && payload[0] == '{' {
		return record.DecodeJSON(payload)
	}
	return pickle.Decode(payload)
}

// DecodeInto is Decode into e, which it overwrites, reusing e's Attrs
// array: a flat record then costs one allocation, the string that holds
// its text. e does not refer to payload. e's strings are never
// overwritten, but e and its Attrs array are, by the next DecodeInto
// into e: whoever keeps them longer must copy them. On error e is unchanged.
func DecodeInto(e *record.Entry, payload []byte) error {
	if len(payload) > 0 && payload[0] == '{' {
		return record.DecodeJSONInto(e, payload)
	}
	return pickle.DecodeInto(e, payload)
}

func (s *Server) maxFrame() int { return orDefault(s.MaxFrame, DefaultMaxFrame) }

func (s *Server) refuse(listener, peer string, reason Reason, err error) {
	c, _ := s.refused.LoadOrStore(reason, new(atomic.Uint64))
	c.(*atomic.Uint64).Add(1)
	r := Report{Listener: listener, Peer: peer, Reason: reason, Err: err}
	if s.OnRefuse != nil {
		s.OnRefuse(r)
	}
}

// deliver decodes a payload from peer on listener and adds it to the
// Sink; it returns why not.
func (s *Server) deliver(p *protocol, cp *commitPoint, listener, peer string, payload []byte) (Reason, error) {
	e, reason, err := s.decode(p, payload)
	if err != nil {
		return reason, err
	}
	return s.hand(cp, e, listener, peer)
}

// decode decodes a payload; it returns why not.
func (s *Server) decode(p *protocol, payload []byte) (*record.Entry, Reason, error) {
	e, err := decodeSafely(func() (*record.Entry, error) { return p.decode(s, payload) })
	if err != nil {
		return nil, reasonOf(err), err
	}
	return e, "", nil
}

// decodeSafely runs a decoder. A panic in one is a bug (fuzzing has found
// such bugs before); it refuses the frame as malformed, with its cause,
// instead of ending the process and every other peer's connection.
func decodeSafely(decode func() (*record.Entry, error)) (e *record.Entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("the decoder failed (a bug in netlog; please report it): %v", r)
		}
	}()
	return decode()
}

// reasonOf is why a payload that did not decode is refused.
func reasonOf(err error) Reason {
	switch {
	case errors.Is(err, pickle.ErrRefused):
		return ReasonUnsafe
	case errors.Is(err, record.ErrAmplified):
		return ReasonAmplified
	}
	return ReasonMalformed
}

// hand adds a decoded record from peer on listener to the Sink.
func (s *Server) hand(cp *commitPoint, e *record.Entry, listener, peer string) (Reason, error) {
	if s.duplicate(e) {
		s.holdFor(cp) // acknowledged as its first copy is
		return "", nil
	}
	s.records.Add(1) // handed over, whatever the Sink makes of it
	e.Peer, e.Listener = peer, listener
	if err := s.add(cp, e); err != nil {
		return ReasonSink, err
	}
	return "", nil
}

// duplicate reports whether Dedup drops e, seen before.
func (s *Server) duplicate(e *record.Entry) bool {
	f := s.dedupFilter()
	if f == nil {
		return false
	}
	id, seq, ok := dedup.Key(e)
	return ok && f.Seen(id, seq)
}

// dedupFilter is the filter of Dedup, made on first use; nil without.
func (s *Server) dedupFilter() *dedup.Filter {
	s.dedupOnce.Do(func() {
		if s.Dedup > 0 {
			s.dedup = dedup.New(s.Dedup, s.DedupIDs)
		}
	})
	return s.dedup
}

func name(a net.Addr) string { return a.Network() + " " + a.String() }

// frameReader is what a protocol's reader is: it reads a stream's frames
// into a buffer from an Allocator (transport.Buffer).
type frameReader interface {
	Next() ([]byte, error)
	Use(transport.Allocator)
	Cap() int // of the buffer held
	Release() // gives the buffer back
}

// protocol is what differs between netlog frames, syslog messages and
// RELP sessions.
type protocol struct {
	reader func(s *Server, cn *conn) frameReader // of cn.br
	split  func(datagram []byte) ([]byte, error) // a datagram's payload
	decode func(s *Server, payload []byte) (*record.Entry, error)
	// into is decode into room i of a stream's chunk (decodeChunk), or
	// of a datagram decoder's, for a Transient Sink only: the record may
	// refer to payload's bytes (transientString).
	into func(s *Server, c *chunk, i int, payload []byte) (*record.Entry, error)
	// answered (RELP): each command is answered, a message once it is
	// committed, and a message not delivered does not end the session.
	answered bool
}

var frames = &protocol{
	reader: func(s *Server, cn *conn) frameReader {
		return transport.NewFrameReader(cn.br, s.maxFrame())
	},
	split:  transport.SplitDatagram,
	decode: func(_ *Server, p []byte) (*record.Entry, error) { return Decode(p) },
	into: func(_ *Server, c *chunk, i int, p []byte) (*record.Entry, error) {
		if len(c.ents) < c.size.frames {
			c.ents = make([]record.Entry, c.size.frames)
		}
		if err := DecodeInto(&c.ents[i], p); err != nil {
			return nil, err
		}
		return &c.ents[i], nil
	},
}

var syslogMessages = &protocol{
	reader: syslogReader,
	split:  func(d []byte) ([]byte, error) { return d, nil },
	decode: func(s *Server, p []byte) (*record.Entry, error) {
		e, err := syslog.Parse(p)
		if err != nil {
			return s.raw(p), nil
		}
		return e, nil
	},
	into: func(s *Server, c *chunk, i int, p []byte) (*record.Entry, error) {
		if len(c.msgs) < c.size.frames {
			c.msgs = make([]syslog.Message, c.size.frames)
		}
		e, err := c.msgs[i].ParseString(transientString(p))
		if err != nil {
			return s.raw(p), nil
		}
		return e, nil
	},
}

// transientString is p as a string, without copying it: a Transient
// Sink's record may refer to the bytes it was decoded from, as they are
// reused only once it is added (a chunk is given back, a datagram's
// buffer released, after all of its records are), and such a Sink keeps
// no string of a record. So syslog messages cost no copy of their text.
func transientString(p []byte) string { return unsafe.String(unsafe.SliceData(p), len(p)) }

// raw is the record of a syslog message that did not parse: passed on
// whole and counted, never emptied or dropped.
func (s *Server) raw(p []byte) *record.Entry {
	s.unparsed.Add(1)
	e := syslog.Raw(p)
	e.Created = time.Now()
	return e
}

// ServeStream accepts connections on ln and reads length-prefixed frames
// from each until ctx is done. It then stops accepting, closes its half of
// every connection (a netlog handler answers by closing its own after its
// last frame), reads each until its peer's close or for at most Drain,
// closes them and returns nil. A *tls.Conn's handshake failure is reported as such.
func (s *Server) ServeStream(ctx context.Context, ln net.Listener) error {
	return s.serveStream(ctx, ln, frames)
}

// ServeSyslogStream is ServeStream for syslog messages: a connection's
// frames are octet-counted if its first one starts with a digit, else end
// at LF or NUL (RFC 6587), the lines of a multi-line message joined back
// into one unless SyslogSingleLine (docs/syslog-framing.md); each holds an
// RFC 5424, RFC 3164 or bare message. A message that does not parse is
// passed on raw (Syslog.Format "raw") and counted.
func (s *Server) ServeSyslogStream(ctx context.Context, ln net.Listener) error {
	return s.serveStream(ctx, ln, syslogMessages)
}

// ServeSyslogPacket is ServePacket for syslog: one message per datagram.
func (s *Server) ServeSyslogPacket(ctx context.Context, pc net.PacketConn) error {
	return s.servePacket(ctx, pc, syslogMessages)
}

func (s *Server) serveStream(ctx context.Context, ln net.Listener, p *protocol) error {
	listener := name(ln.Addr())
	ls := s.listener(listener)
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for c := range conns {
			s.wind(c)
		}
	})
	defer stop()
	for failures := 0; ; {
		if !s.slot(ctx) { // at MaxConns: new connections wait in the backlog
			wg.Wait()
			return nil
		}
		c, err := ln.Accept()
		if err != nil {
			s.freeSlot()
			if ctx.Err() == nil && s.acceptFailed(listener, ls, err) {
				failures++
				if transport.Sleep(ctx, acceptBackoff.Delay(failures)) {
					continue
				}
			}
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("receive: accept on %s: %w", listener, err)
		}
		failures = 0
		s.connections.Add(1)
		release, ok := s.admit(listener, ls, c)
		if !ok {
			continue
		}
		mu.Lock()
		conns[c] = true
		if ctx.Err() != nil {
			s.wind(c)
		}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer release()
			s.serveConn(ctx, p, listener, c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}

// wind starts a connection's drain: it closes the server's half, which a
// netlog handler takes as the signal to stop writing and close its own
// half after the frames it has sent, and it gives the peer Drain to do so,
// extended by every frame that arrives (see deadline) up to the cap. The
// server reads up to that close: nothing the handler wrote is lost. If the
// cap cuts a frame, the server's close resets the connection, and the
// handler sends again what it had not seen acknowledged.
func (s *Server) wind(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	s.lim.stopAt.CompareAndSwap(0, time.Now().Add(max(DrainCap, 10*s.drain())).UnixNano())
	c.SetReadDeadline(s.deadline(s.drain()))
}

func (s *Server) drain() time.Duration { return orDefault(s.Drain, DefaultDrain) }

func (s *Server) serveConn(ctx context.Context, p *protocol, listener string, c net.Conn) {
	defer c.Close()
	cn := &conn{Conn: c, ctx: ctx, listener: listener, peer: peerName(c), first: time.Now().Add(s.handshakeTimeout())}
	cn.mem = &connMemory{cn: cn, s: s}
	defer cn.mem.close()
	if tc, ok := c.(*tls.Conn); ok {
		hctx, cancel := context.WithDeadline(ctx, cn.first)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			s.refuse(listener, cn.peer, ReasonHandshake, err)
			return
		}
	}
	if err := s.awaitFrame(cn); err != nil { // the first byte, and with it the read buffer
		if err != errIdle {
			s.endConn(cn, err)
		}
		return
	}
	fr := p.reader(s, cn)
	fr.Use(cn.mem)
	defer fr.Release()
	pl := s.startPipeline(p, cn)
	cn.pl = pl
	err := s.readFrames(p, cn, fr, pl)
	s.finish(cn, pl)
	if err != errIdle && err != errStopped && !pl.failed {
		s.endConn(cn, err)
	}
}

// readFrames reads cn's frames and hands them to its decoders (a frame
// too large for a chunk it decodes itself), until the connection ends
// (the error says how) or the writer stops. Anything that may wait
// comes between reading a frame and awaiting the next, so that it does
// not eat into the next frame's FrameTimeout.
func (s *Server) readFrames(p *protocol, cn *conn, fr frameReader, pl *pipeline) error {
	quick := false // nothing that may wait since the last frame began
	for {
		if cn.br.Buffered() == 0 && !pl.handOver(true) { // nothing more to read right now
			return errStopped
		}
		err := s.awaitNext(cn, quick)
		quick = true
		if err == errIdle {
			return err
		}
		var payload []byte
		if err == nil {
			payload, err = fr.Next()
		}
		closed := err == errClosed
		answerOnly := closed || err == errAnswered // a RELP command that is not a message
		if answerOnly {
			err = nil
		}
		if err != nil {
			return err
		}
		s.frames.Add(1)
		pl.committed = false
		if len(payload) > maxCopied {
			quick = false
			ok := pl.large(s.decoded(p, payload), fr)
			cn.mem.delivered(fr)
			if !ok {
				return errStopped
			}
			continue
		}
		if pl.cur == nil {
			quick = false
			if pl.cur, err = s.take(cn, pl); err != nil {
				return err
			}
		}
		if !answerOnly {
			pl.cur.add(payload)
		}
		moveAnswers(fr, pl.cur)
		cn.mem.delivered(fr)
		if closed {
			return io.EOF // finish hands over its answer
		}
		if pl.full() {
			quick = false
			if !pl.handOver(pl.due()) {
				return errStopped
			}
		}
	}
}

// endConn reports why a connection ended, unless it ended cleanly or the
// server is stopping and its drain time ran out.
func (s *Server) endConn(cn *conn, err error) {
	var ne net.Error
	listener, peer := cn.listener, cn.peer
	switch {
	case err == io.EOF:
	case cn.ctx.Err() != nil && errors.As(err, &ne) && ne.Timeout():
	case errors.As(err, &ne) && ne.Timeout():
		s.frames.Add(1)
		s.refuse(listener, peer, ReasonSlow, fmt.Errorf("a frame took over %v to arrive: %w", orDefault(s.FrameTimeout, DefaultFrameTimeout), err))
	case errors.Is(err, transport.ErrFrameTooLarge):
		s.frames.Add(1)
		s.refuse(listener, peer, ReasonTooLarge, err)
	case errors.Is(err, transport.ErrTruncated):
		s.frames.Add(1)
		s.refuse(listener, peer, ReasonTruncated, err)
	case errors.Is(err, transport.ErrBadFrame):
		s.frames.Add(1)
		s.refuse(listener, peer, ReasonMalformed, err)
	default:
		s.refuse(listener, peer, ReasonRead, err)
	}
}

// PacketBuffer is the default of Server.ReadBuffer: the socket receive
// buffer ServePacket asks for, so that a burst of datagrams waits in the
// kernel instead of being dropped.
const PacketBuffer = 4 << 20

// ServePacket reads one frame per datagram from pc until ctx is done, then
// delivers what is already queued, for up to Drain, and returns nil: at
// once if nothing is.
func (s *Server) ServePacket(ctx context.Context, pc net.PacketConn) error {
	return s.servePacket(ctx, pc, frames)
}
