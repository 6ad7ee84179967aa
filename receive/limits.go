package receive

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the Server's limits.
const (
	DefaultMaxConns        = 1024
	DefaultMaxConnsPerPeer = 64
	DefaultIdleTimeout     = 5 * time.Minute
	DefaultFrameTimeout    = 30 * time.Second
)

// The reasons of the limits.
const (
	ReasonBusy Reason = "busy" // over MaxConns, or MaxConnsPerPeer for that address
	ReasonSlow Reason = "slow" // a frame took longer than FrameTimeout to arrive
)

// limits is what the Server tracks to enforce its connection limits.
type limits struct {
	active     atomic.Int64
	stopAt     atomic.Int64 // UnixNano of the drain's cap, once stopping
	idleClosed atomic.Uint64
	mu         sync.Mutex
	perPeer    map[string]int           // active connections by IP
	listeners  map[string]*listenerStat // by listener name
}

type listenerStat struct{ accepted, active atomic.Int64 }

// ListenerStats are one listener's connection counts.
type ListenerStats struct {
	Accepted uint64 // connections accepted, refused ones included
	Active   int64  // connections being served now
}

func orDefault[T int | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
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

// admit counts a new connection in, or refuses it (and reports why) when
// the server or its peer's address is at its limit. release counts it out.
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
	var err error
	switch {
	case s.lim.active.Load() >= int64(orDefault(s.MaxConns, DefaultMaxConns)):
		err = fmt.Errorf("%d connections, the server's limit", s.lim.active.Load())
	case ip != "" && s.lim.perPeer[ip] >= orDefault(s.MaxConnsPerPeer, DefaultMaxConnsPerPeer):
		err = fmt.Errorf("%d connections from %s, the limit per address", s.lim.perPeer[ip], ip)
	default:
		s.lim.active.Add(1)
		ls.active.Add(1)
		if ip != "" {
			s.lim.perPeer[ip]++
		}
	}
	s.lim.mu.Unlock()
	if err != nil {
		s.refuse(listener, peerName(c), ReasonBusy, err)
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

// errIdle ends a connection whose peer sent nothing for IdleTimeout.
var errIdle = errors.New("idle")

// awaitFrame waits for the first byte of the next frame for up to
// IdleTimeout, then gives the whole frame FrameTimeout to arrive: a peer
// that trickles a byte at a time cannot hold a connection for long.
func (s *Server) awaitFrame(c net.Conn, br *bufio.Reader) error {
	if br.Buffered() == 0 {
		c.SetReadDeadline(s.deadline(orDefault(s.IdleTimeout, DefaultIdleTimeout)))
		if _, err := br.Peek(1); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && s.lim.stopAt.Load() == 0 {
				s.lim.idleClosed.Add(1)
				return errIdle
			}
			return err
		}
	}
	c.SetReadDeadline(s.deadline(orDefault(s.FrameTimeout, DefaultFrameTimeout)))
	return nil
}
