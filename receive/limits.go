package receive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
)

// Defaults of the Server's limits (docs/receiver-limits.md says why).
const (
	DefaultMaxConns = 1024
	// DefaultMaxConnsPerPeer is the limit per address when MaxConns is the
	// default; otherwise it is MaxConns/64 (at least 1), so that 32
	// addresses hold at most half of the slots.
	DefaultMaxConnsPerPeer  = DefaultMaxConns / 64
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultFrameTimeout     = 30 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
)

// The reasons of the limits.
const (
	ReasonBusy Reason = "busy" // over MaxConnsPerPeer for that address
	ReasonSlow Reason = "slow" // a frame, or reading acknowledgments, took too long
)

// limits is what the Server tracks to enforce its connection limits.
type limits struct {
	once                     sync.Once
	slots                    chan struct{} // one per connection served, MaxConns in all
	active                   atomic.Int64
	stopAt                   atomic.Int64 // UnixNano of the drain's cap, once stopping
	idleClosed, silentClosed atomic.Uint64
	acceptErrors             atomic.Uint64
	mu                       sync.Mutex
	perPeer                  map[string]int           // active connections by IP
	listeners                map[string]*listenerStat // by listener name
}

type listenerStat struct {
	accepted, active atomic.Int64
	acceptErrors     atomic.Uint64
	reported         atomic.Int64 // UnixNano of the last accept error reported
}

// ListenerStats are one listener's connection counts.
type ListenerStats struct {
	Accepted     uint64 // connections accepted, refused ones included
	Active       int64  // connections being served now
	AcceptErrors uint64 // failed accepts (out of descriptors, …), retried
}

func orDefault[T int | int64 | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

func (s *Server) maxConns() int { return orDefault(s.MaxConns, DefaultMaxConns) }

func (s *Server) maxConnsPerPeer() int {
	return orDefault(s.MaxConnsPerPeer, max(1, s.maxConns()/64))
}

func (s *Server) handshakeTimeout() time.Duration {
	return orDefault(s.HandshakeTimeout, DefaultHandshakeTimeout)
}

// listener returns the counters of the named listener.
func (s *Server) listener(name string) *listenerStat {
	s.lim.mu.Lock()
	defer s.lim.mu.Unlock()
	if s.lim.listeners == nil {
		s.lim.listeners = map[string]*listenerStat{}
	}
	l := s.lim.listeners[name]
	if l == nil {
		l = &listenerStat{}
		s.lim.listeners[name] = l
	}
	return l
}

// slot waits for room for one more connection, so that a listener at the
// server's limit does not accept: the kernel's backlog holds a new
// connection, and whatever its peer sends, until one ends. It returns
// false when ctx is done first; otherwise the caller frees the slot.
func (s *Server) slot(ctx context.Context) bool {
	s.lim.once.Do(func() { s.lim.slots = make(chan struct{}, s.maxConns()) })
	select {
	case s.lim.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) freeSlot() { <-s.lim.slots }

// acceptBackoff is net/http's schedule after a failed accept.
var acceptBackoff = transport.Backoff{Initial: 5 * time.Millisecond, Factor: 2, Max: time.Second}

// acceptFailed counts a failed accept and reports it, at most once a
// second per listener. It returns whether the error is temporary (out of
// descriptors, buffers or memory, or a connection aborted before it was
// accepted): the listener then waits and tries again.
func (s *Server) acceptFailed(listener string, ls *listenerStat, err error) bool {
	if !temporary(err) {
		return false
	}
	s.lim.acceptErrors.Add(1)
	n := ls.acceptErrors.Add(1)
	now := time.Now().UnixNano()
	if last := ls.reported.Load(); now-last >= int64(time.Second) && ls.reported.CompareAndSwap(last, now) {
		err = fmt.Errorf("accept on %s (%d failed so far; retrying): %w", listener, n, err)
		if s.OnAcceptError != nil {
			s.OnAcceptError(err)
		}
	}
	return true
}

// temporary says whether an accept error passes once descriptors,
// buffers or memory free up, or concerns only the connection accepted.
func temporary(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// admit counts an accepted connection in, or refuses it (and reports
// why) when its peer's address is at its limit; it then resets the
// connection, so that the peer's next write or read fails instead of
// succeeding into a socket nobody reads. release counts it out and frees
// its slot.
func (s *Server) admit(listener string, ls *listenerStat, c net.Conn) (release func(), ok bool) {
	ls.accepted.Add(1)
	ip := ""
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip = a.IP.String()
	}
	s.lim.mu.Lock()
	if s.lim.perPeer == nil {
		s.lim.perPeer = map[string]int{}
	}
	n := s.lim.perPeer[ip]
	if ip == "" || n < s.maxConnsPerPeer() {
		s.lim.active.Add(1)
		ls.active.Add(1)
		if ip != "" {
			s.lim.perPeer[ip]++
		}
	}
	s.lim.mu.Unlock()
	if ip != "" && n >= s.maxConnsPerPeer() {
		s.freeSlot()
		s.refuse(listener, peerName(c), ReasonBusy, fmt.Errorf("%d connections from %s, the limit per address", n, ip))
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
		return nil, false
	}
	return func() {
		s.lim.mu.Lock()
		defer s.lim.mu.Unlock()
		s.lim.active.Add(-1)
		ls.active.Add(-1)
		if ip != "" {
			if s.lim.perPeer[ip]--; s.lim.perPeer[ip] == 0 {
				delete(s.lim.perPeer, ip)
			}
		}
		s.freeSlot()
	}, true
}

func peerName(c net.Conn) string {
	peer := c.RemoteAddr().String()
	if peer == "" || peer == "@" {
		peer = "unix peer"
	}
	return peer
}

// deadline is now+d or, if the server is stopping, the earlier of that
// and the drain's end: Drain from now (so that each frame read extends
// it: a peer still sending is read to its end), at most the drain's cap.
func (s *Server) deadline(d time.Duration) time.Time {
	now := time.Now()
	t := now.Add(d)
	if stop := s.lim.stopAt.Load(); stop != 0 {
		for _, end := range []time.Time{now.Add(s.drain()), time.Unix(0, stop)} {
			if end.Before(t) {
				t = end
			}
		}
	}
	return t
}

// errIdle ends a connection whose peer sent nothing for IdleTimeout, or
// no first frame within HandshakeTimeout.
var errIdle = errors.New("idle")

// awaitFrame waits for the first byte of the next frame for up to
// IdleTimeout, then gives the whole frame FrameTimeout to arrive: a peer
// that trickles a byte at a time cannot hold a connection for long. The
// first frame must start by cn.first (HandshakeTimeout after the accept):
// a peer that connects and sends nothing is closed, and counted. (Its
// end is not bounded by HandshakeTimeout: a server busy with other frames
// may take long to read one that its peer has sent whole.)
func (s *Server) awaitFrame(cn *conn) error {
	if cn.br == nil || cn.br.Buffered() == 0 {
		cn.SetReadDeadline(cn.cap(s.deadline(orDefault(s.IdleTimeout, DefaultIdleTimeout))))
		if err := s.peek(cn); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && s.lim.stopAt.Load() == 0 {
				if cn.first.IsZero() {
					s.lim.idleClosed.Add(1)
				} else {
					s.lim.silentClosed.Add(1)
				}
				return errIdle
			}
			return err
		}
	}
	cn.first = time.Time{}
	s.startFrame(cn)
	return nil
}

// startFrame gives the frame being read FrameTimeout from now.
func (s *Server) startFrame(cn *conn) {
	cn.frameEnd = s.deadline(s.frameTimeout())
	cn.SetReadDeadline(cn.frameEnd)
	cn.frameReads, cn.reused = cn.reads, 0
}

// maxReused is how many frames in a row awaitNext lets keep the deadline
// of the frame before them.
const maxReused = 32

// awaitNext is awaitFrame for a reader that has done nothing that may
// wait since the last frame began (quick): a frame whose first byte is
// buffered, when nothing was read from the connection since the deadline
// in force was set (so every frame since came whole from the buffer, in
// microseconds), keeps that deadline, up to maxReused frames in a row.
// It is that much early, and it spares the clock read of every frame
// (time.Now took 100–200 ns on the 2-core VM, a tenth of a syslog
// record's cost). Not while the server is stopping: each frame extends
// the drain then.
func (s *Server) awaitNext(cn *conn, quick bool) error {
	if quick && cn.reused < maxReused && cn.reads == cn.frameReads && cn.br != nil && cn.br.Buffered() > 0 &&
		s.lim.stopAt.Load() == 0 {
		cn.reused++
		return nil
	}
	return s.awaitFrame(cn)
}

func (s *Server) frameTimeout() time.Duration { return orDefault(s.FrameTimeout, DefaultFrameTimeout) }

// peek waits for a byte to read. The connection's read buffer is taken,
// and charged to MaxMemory, only once its first byte is in: a silent
// connection holds none.
func (s *Server) peek(cn *conn) error {
	if cn.br != nil {
		_, err := cn.br.Peek(1)
		return err
	}
	var b [1]byte
	if n, err := cn.Conn.Read(b[:]); n == 0 {
		return err
	}
	size := s.readSize()
	if err := s.charge(cn, int64(size)); err != nil {
		return err
	}
	cn.mem.held = int64(size)
	cn.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(b[:]), connReader{cn}), size)
	return nil
}

// conn is one stream connection being served.
type conn struct {
	net.Conn
	ctx            context.Context
	listener, peer string
	br             *bufio.Reader
	first          time.Time // the first frame must start by then; zero after
	frameEnd       time.Time // the read deadline of the frame being read
	rd             time.Time // the read deadline last set (SetReadDeadline)
	mem            *connMemory
	pl             *pipeline // its chunks, once started: given back before waiting for the budget
	reads          int       // reads from the connection into br
	frameReads     int       // reads when frameEnd was set
	reused         int       // frames since that kept frameEnd (awaitNext)
}

// connReader is the reader under a connection's br: it counts the reads.
type connReader struct{ cn *conn }

func (r connReader) Read(p []byte) (int, error) {
	r.cn.reads++
	return r.cn.Conn.Read(p)
}

// cap is t, or cn.first if that is earlier.
func (cn *conn) cap(t time.Time) time.Time {
	if !cn.first.IsZero() && cn.first.Before(t) {
		return cn.first
	}
	return t
}
