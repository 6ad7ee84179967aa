package receive

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
)

// DefaultMaxMemory is the default budget of a Server's buffers: 128 MiB.
const DefaultMaxMemory = 128 << 20

// What a connection is charged for: its read buffer, and a frame buffer
// it keeps between frames if that is at most keepBuffer bytes (a larger
// one is given back after each frame). The read buffer is readBuffer if
// at most soloConns connections are active when its first byte comes,
// as for the chunks, else sharedReadBuffer: many connections each read
// less at a time, and what their buffers hold adds to the peak RSS.
const (
	readBuffer       = 64 << 10
	sharedReadBuffer = 16 << 10
	keepBuffer       = 8 << 10
)

// readSize is the read buffer of a connection whose first byte comes now.
func (s *Server) readSize() int { return readSizeFor(s.lim.active.Load()) }

// readSizeFor is the read buffer of a connection whose first byte comes
// while n are active.
func readSizeFor(n int64) int {
	if n <= soloConns {
		return readBuffer
	}
	return sharedReadBuffer
}

// memory is the budget every connection's buffers are charged to.
type memory struct {
	used, waits atomic.Int64
	mu          sync.Mutex
	freed       chan struct{} // closed, and replaced, when memory is given back
}

func (s *Server) maxMemory() int64 { return orDefault(s.MaxMemory, DefaultMaxMemory) }

// charge takes n bytes of the budget for cn, waiting while they do not
// fit: reading stops, and the peer's data waits in the kernel, instead of
// memory growing. The wait is not the peer's doing and has no timeout of
// its own (what holds the memory is bounded by FrameTimeout and the
// Sink), but if the server stops meanwhile it ends at the drain's end
// with a timeout error. More than the whole budget is refused as too large.
func (s *Server) charge(cn *conn, n int64) error {
	if limit := s.maxMemory(); n > limit {
		return fmt.Errorf("%w: it needs %d bytes, over the memory budget of %d", transport.ErrFrameTooLarge, n, limit)
	}
	var timeout <-chan time.Time
	stopping, waited := cn.ctx.Done(), false
	for {
		s.mem.mu.Lock()
		if s.takeLocked(n) {
			s.mem.mu.Unlock()
			if waited { // the frame's time starts now
				s.startFrame(cn)
			}
			return nil
		}
		if s.mem.freed == nil {
			s.mem.freed = make(chan struct{})
		}
		freed := s.mem.freed
		s.mem.mu.Unlock()
		if !waited {
			waited = true
			s.mem.waits.Add(1)
		}
		if s.shed(cn) {
			continue // try again with what they held
		}
		select {
		case <-freed:
		case c := <-cn.pl.freed(): // a chunk back from the writer: shed next
			cn.pl.back(c)
		case <-stopping:
			stopping = nil
			t := time.NewTimer(s.drain())
			defer t.Stop()
			timeout = t.C
		case <-timeout:
			return fmt.Errorf("no memory for %d bytes before the drain's end: %w", n, os.ErrDeadlineExceeded)
		}
	}
}

// tryCharge takes n bytes of the budget if they fit now.
func (s *Server) tryCharge(n int64) bool {
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	return s.takeLocked(n)
}

// takeLocked takes n bytes of the budget if they fit; s.mem.mu is held.
func (s *Server) takeLocked(n int64) bool {
	if s.mem.used.Load()+n > s.maxMemory() {
		return false
	}
	s.mem.used.Add(n)
	return true
}

// uncharge gives n bytes back to the budget and wakes those waiting.
func (s *Server) uncharge(n int64) {
	if n == 0 {
		return
	}
	s.mem.mu.Lock()
	s.mem.used.Add(-n)
	if s.mem.freed != nil {
		close(s.mem.freed)
		s.mem.freed = nil
	}
	s.mem.mu.Unlock()
}

// connMemory is a connection's transport.Allocator: a frame of n bytes is
// charged 2n, its buffer and as much again for the record decoded from
// it, until it is delivered.
type connMemory struct {
	cn      *conn
	s       *Server
	decoded int64 // charged for the frame being decoded
	held    int64 // charged for the read buffer
}

func (m *connMemory) Alloc(n int) ([]byte, error) {
	if err := m.s.charge(m.cn, 2*int64(n)); err != nil {
		return nil, err
	}
	m.decoded += int64(n)
	return make([]byte, n), nil
}

func (m *connMemory) Free(b []byte) { m.s.uncharge(int64(cap(b))) }

// delivered gives back what the frame's decoding was charged, and the
// reader's buffer if it is larger than keepBuffer.
func (m *connMemory) delivered(r interface {
	Cap() int
	Release()
}) {
	m.s.uncharge(m.decoded)
	m.decoded = 0
	if r.Cap() > keepBuffer {
		r.Release()
	}
}

// close gives back everything the connection was charged but its
// reader's buffer (the reader's Release does that).
func (m *connMemory) close() {
	m.s.uncharge(m.decoded + m.held)
	m.decoded, m.held = 0, 0
}
