package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// IdlePeek is the pause after which a stream Link peeks at its connection
// before writing.
const IdlePeek = time.Millisecond

// ErrBackingOff is returned while a Link waits before its next connect
// attempt; the error also says until when.
var ErrBackingOff = errors.New("not connected, waiting to redial")

// Config describes a Link.
type Config struct {
	// Dial opens the connection; the context carries the dial timeout.
	Dial func(ctx context.Context) (net.Conn, error)
	// DialTimeout bounds one connect attempt; default 1 s (Python's).
	DialTimeout time.Duration
	// WriteTimeout bounds one write; default 5 s.
	WriteTimeout time.Duration
	// Backoff is the reconnect policy; the zero value is DefaultBackoff.
	Backoff Backoff
	// Stream says the connection is a byte stream. A stream Link notices
	// that the peer has closed or reset the connection, and redials before
	// the next write: a collector restart then costs no record that the
	// kernel would have accepted into a dead socket. During a stream of
	// writes a watcher goroutine, blocked in a read that returns only at
	// the end (these protocols send nothing back), tells; after a pause of
	// IdlePeek or more, when the watcher may not have been scheduled yet,
	// a non-blocking peek before the write does. Only a write racing the
	// close within a busy stream can still be lost.
	Stream bool
	// Now is the clock for the backoff schedule; nil means time.Now.
	Now func() time.Time
}

// Link is one connection to a destination, opened lazily, redialed with
// backoff after a failure, and written one frame at a time. It is safe for
// concurrent use; writes are serialised.
type Link struct {
	cfg Config

	mu       sync.Mutex
	conn     net.Conn
	gone     chan struct{} // closed when a stream peer closes conn
	fd       uintptr       // conn's descriptor, for the peek; 0 if none
	lastUse  time.Time     // of conn, by the last write
	failures int           // consecutive failed connects
	retryAt  time.Time     // no connect attempt before this
	deadline time.Time     // write deadline currently set on conn

	connects, connectFailures atomic.Uint64
}

// NewLink returns a Link that has not connected yet.
func NewLink(cfg Config) (*Link, error) {
	b, err := cfg.Backoff.normalize()
	if err != nil {
		return nil, err
	}
	cfg.Backoff = b
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	if cfg.DialTimeout < 0 || cfg.WriteTimeout < 0 {
		return nil, fmt.Errorf("negative timeout (dial %v, write %v)", cfg.DialTimeout, cfg.WriteTimeout)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Link{cfg: cfg}, nil
}

// Write sends frame as one write (one datagram on a datagram Link). If
// the write fails, the Link redials at once and tries the frame again
// on the new connection: the destination may have restarted. An error
// means the frame was not delivered.
func (l *Link) Write(ctx context.Context, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.conn != nil && (closed(l.gone) || l.fd != 0 && now.Sub(l.lastUse) >= IdlePeek && peerClosed(l.fd)) {
		l.drop()
	}
	l.lastUse = now
	if l.conn == nil {
		if err := l.connect(ctx); err != nil {
			return err
		}
	}
	err := l.write(ctx, frame)
	if err == nil {
		return nil
	}
	l.drop()
	if rerr := l.connect(ctx); rerr != nil {
		return fmt.Errorf("write: %w; redial: %w", err, rerr)
	}
	return l.write(ctx, frame)
}

func (l *Link) connect(ctx context.Context) error {
	now := l.cfg.Now()
	if now.Before(l.retryAt) {
		return fmt.Errorf("%w until %s (%d failed attempts)", ErrBackingOff, l.retryAt.Format(time.RFC3339Nano), l.failures)
	}
	dctx, cancel := context.WithTimeout(ctx, l.cfg.DialTimeout)
	defer cancel()
	conn, err := l.cfg.Dial(dctx)
	if err != nil {
		l.failures++
		l.retryAt = now.Add(l.cfg.Backoff.delay(l.failures))
		l.connectFailures.Add(1)
		return fmt.Errorf("connect: %w", err)
	}
	l.conn, l.failures, l.retryAt, l.deadline = conn, 0, time.Time{}, time.Time{}
	l.gone, l.fd = nil, 0
	if l.cfg.Stream {
		l.gone = make(chan struct{})
		go watch(conn, l.gone)
		l.fd, _ = socketFD(conn)
	}
	l.connects.Add(1)
	return nil
}

// watch reads conn until it fails — the peer closed or reset it, or the
// Link closed it — and then closes gone. Stray bytes from a peer are
// discarded.
func watch(conn net.Conn, gone chan struct{}) {
	defer close(gone)
	var b [512]byte
	for {
		if _, err := conn.Read(b[:]); err != nil {
			return
		}
	}
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false // also for a nil channel: datagram Links have no watcher
	}
}

// write sets a write deadline only when the one in force would leave less
// than half of WriteTimeout (or the context's deadline is sooner), which
// saves a timer update on most writes.
func (l *Link) write(ctx context.Context, frame []byte) error {
	now := time.Now()
	want := now.Add(l.cfg.WriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(want) {
		want = d
	}
	if want.Before(l.deadline) || l.deadline.Sub(now) < l.cfg.WriteTimeout/2 {
		if err := l.conn.SetWriteDeadline(want); err != nil {
			return err
		}
		l.deadline = want
	}
	_, err := l.conn.Write(frame)
	return err
}

// drop closes the connection and waits for its watcher to end.
func (l *Link) drop() error {
	if l.conn == nil {
		return nil
	}
	err := l.conn.Close()
	if l.gone != nil {
		<-l.gone
	}
	l.conn, l.gone, l.fd = nil, nil, 0
	return err
}

// Connects returns how many connections the Link has opened.
func (l *Link) Connects() uint64 { return l.connects.Load() }

// ConnectFailures returns how many connect attempts failed.
func (l *Link) ConnectFailures() uint64 { return l.connectFailures.Load() }

// Close closes the connection, if any, and returns once its watcher has
// ended. A later Write reconnects.
func (l *Link) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.drop()
}

// SetDialer replaces the Link's dial function; benchmarks use it to write
// to a connection that costs nothing.
func (l *Link) SetDialer(dial func(ctx context.Context) (net.Conn, error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg.Dial = dial
}
