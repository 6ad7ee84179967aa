package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// IdlePeek is the pause after which a stream Link peeks at its connection
// before writing.
const IdlePeek = time.Millisecond

// ErrBackingOff is returned while a Link waits before its next connect
// attempt; the error also says until when.
var ErrBackingOff = errors.New("not connected, waiting to redial")

// ErrStalled is wrapped by the error of a write that timed out on a peer
// that is alive but not reading (plain TCP on Linux): the frame was not
// written, or (WriteFrames) only its start was, and the Link keeps the
// connection, so that nothing is delivered out of order when the peer
// reads again.
var ErrStalled = errors.New("the peer is not reading")

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
	// Name is Dial's address; Fallbacks are the destinations tried after
	// it, and FailoverAfter how many failures in a row move on to the
	// next (see Dialer).
	Name          string
	Fallbacks     []Dest
	FailoverAfter int
}

// ErrRefused is wrapped by a Sender's error when the destination received
// the frame after the delivered ones and answered that it will not take
// it (RELP's error codes); the frames after it were not delivered either.
var ErrRefused = errors.New("the destination refused the frame")

// Refusal is the error of a WriteFrames whose next frame (the one after
// the count it returned) the destination refused. After frames that
// followed it were delivered all the same; the connection stays usable.
type Refusal struct {
	After int
	Err   error // wraps ErrRefused
}

func (r *Refusal) Error() string { return r.Err.Error() }

// Unwrap returns Err.
func (r *Refusal) Unwrap() error { return r.Err }

// Sender is what a handler writes through: a Link, or a RELP client
// that also waits for the peer's acknowledgments.
type Sender interface {
	// Write delivers one frame; an error means it was not delivered.
	Write(ctx context.Context, frame []byte) error
	// WriteFrames delivers whole frames, b[:ends[0]], b[ends[0]:ends[1]],
	// …, and returns how many were delivered, in order, before an error.
	WriteFrames(ctx context.Context, b []byte, ends []int) (int, error)
	// RetryAt is when the next connect may be tried after failures.
	RetryAt() time.Time
	// Close closes the connection.
	Close() error
	// Connects and ConnectFailures count connect attempts.
	Connects() uint64
	ConnectFailures() uint64
}

// Link is one connection to a destination, opened lazily, redialed with
// backoff after a failure. It is safe for concurrent use.
//
// On a stream, concurrent writes are committed in groups: while one write
// is in flight, the frames of other callers queue, and the first of them
// then writes them all with one system call. Every Write still returns
// only once its own frame has been written, with that write's error; each
// caller writes at most one group before handing over, so none waits on
// the others indefinitely. Datagrams go one frame per write.
type Link struct {
	cfg Config

	mu      sync.Mutex
	cond    sync.Cond // on mu: a group was written, or the writer changed
	writing bool      // a caller owns the connection and is writing
	queue   []byte    // frames waiting for the write in flight
	waiters []*waiter // their callers, in order
	spareQ  []byte    // the other half of queue's double buffer
	spareW  []*waiter

	// The connection and its state belong to the caller that is writing
	// (or to one holding mu while no one is).
	conn     net.Conn
	gone     chan struct{}   // closed when a stream peer closes conn
	raw      syscall.RawConn // conn's socket, for the peek; nil if none
	lastUse  time.Time       // of conn, by the last write
	deadline time.Time       // write deadline currently set on conn

	// On plain TCP under Linux (confirmable), the Link keeps the frames
	// written to conn that its peer may not have acknowledged. When it
	// gives conn up, it resets it, so that the kernel discards what is
	// unsent instead of delivering it late beside newer frames, and sends
	// the frames not wholly acknowledged first on the next connection.
	confirmable bool
	kept        unconfirmed // written to conn
	resend      unconfirmed // to send first on the next connection
	partial     int         // bytes of WriteFrames' next frame already on conn
	resent      atomic.Uint64

	dialer *Dialer
}

// NewLink returns a Link that has not connected yet.
func NewLink(cfg Config) (*Link, error) {
	if err := cfg.Normalize(); err != nil {
		return nil, err
	}
	l := &Link{cfg: cfg, dialer: cfg.Dialer()}
	l.cond.L = &l.mu
	return l, nil
}

// Normalize fills in cfg's defaults and checks it.
func (cfg *Config) Normalize() error {
	b, err := cfg.Backoff.Normalize()
	if err != nil {
		return err
	}
	cfg.Backoff = b
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	if cfg.DialTimeout < 0 || cfg.WriteTimeout < 0 {
		return fmt.Errorf("negative timeout (dial %v, write %v)", cfg.DialTimeout, cfg.WriteTimeout)
	}
	if cfg.FailoverAfter < 0 {
		return fmt.Errorf("negative failover threshold %d", cfg.FailoverAfter)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return nil
}

// Dialer returns a Dialer for a normalized cfg.
func (cfg *Config) Dialer() *Dialer {
	return &Dialer{Dial: cfg.Dial, Timeout: cfg.DialTimeout, Backoff: cfg.Backoff, Now: cfg.Now,
		Name: cfg.Name, Fallbacks: cfg.Fallbacks, FailoverAfter: cfg.FailoverAfter}
}

// waiter is a caller whose frame waits in the queue.
type waiter struct {
	done bool // its frame's group was written, with err
	lead bool // it is to write the queue next
	err  error
}

var waiterPool = sync.Pool{New: func() any { return new(waiter) }}

// Write sends frame as one write (one datagram on a datagram Link). If
// the write fails, the Link redials at once and tries the frame again
// on the new connection: the destination may have restarted. An error
// means the frame was not delivered.
func (l *Link) Write(ctx context.Context, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	if !l.cfg.Stream {
		defer l.mu.Unlock()
		return l.send(ctx, frame)
	}
	if l.writing {
		return l.join(ctx, frame) // unlocks
	}
	l.writing = true
	l.mu.Unlock()
	err := l.send(ctx, frame)
	l.mu.Lock()
	l.handOver()
	l.mu.Unlock()
	return err
}

// join queues frame behind the write in flight and waits until a group
// holding it has been written, writing that group itself if it is first
// in line. It is called with mu held and unlocks it.
func (l *Link) join(ctx context.Context, frame []byte) error {
	w := waiterPool.Get().(*waiter)
	*w = waiter{}
	l.queue = append(l.queue, frame...)
	l.waiters = append(l.waiters, w)
	for !w.done && !w.lead {
		l.cond.Wait()
	}
	if !w.done {
		group, ws := l.queue, l.waiters
		l.queue, l.waiters = l.spareQ[:0], l.spareW[:0]
		l.mu.Unlock()
		err := l.send(ctx, group)
		l.mu.Lock()
		for _, gw := range ws {
			gw.done, gw.err = true, err
		}
		clear(ws)
		l.spareQ, l.spareW = group[:0], ws[:0]
		l.handOver()
	}
	err := w.err
	l.mu.Unlock()
	waiterPool.Put(w)
	return err
}

// handOver makes the first queued caller the writer, or leaves the
// connection free. mu is held.
func (l *Link) handOver() {
	if len(l.waiters) > 0 {
		l.waiters[0].lead = true
	} else {
		l.writing = false
	}
	l.cond.Broadcast()
}

// send writes frame (one frame, or a group of them), redialing first if
// the peer has gone and retrying once on a new connection if the write
// fails. A peer that is alive but not reading keeps its connection: a
// frame none of which went out fails with ErrStalled, and the rest of one
// that went out in part waits for the peer to read. Only the writer calls
// it.
func (l *Link) send(ctx context.Context, frame []byte) error {
	if err := l.ready(ctx); err != nil {
		return err
	}
	ends := []int{len(frame)}
	skip := 0
	for {
		_, n, err := l.writeFrames(ctx, frame, ends, skip)
		switch {
		case err == nil:
			l.dialer.Delivered()
			return nil
		case !l.stalledOn(ctx, err):
			l.giveUp(ctx, err)
			if rerr := l.connect(ctx); rerr != nil {
				return fmt.Errorf("write: %w; redial: %w", err, rerr)
			}
			_, _, err = l.writeFrames(ctx, frame, ends, 0)
			return err
		case n == 0:
			return fmt.Errorf("%w: %w", ErrStalled, err)
		}
		skip = n
	}
}

// writeFrames writes the frames of b, ending at ends, from byte skip of
// the first on: on a stream in one write, on datagrams one per frame. It
// returns how many frames went out whole and how many bytes of b are out.
// A stream write that times out after some bytes went through goes on:
// the peer is slow, not gone.
func (l *Link) writeFrames(ctx context.Context, b []byte, ends []int, skip int) (done, start int, err error) {
	start = skip
	for done < len(ends) {
		end := ends[done]
		if l.cfg.Stream {
			end = ends[len(ends)-1]
		}
		n, err := l.write(ctx, b[start:end])
		start += n
		l.kept.sent += n
		for ; done < len(ends) && ends[done] <= start; done++ {
			if l.confirmable {
				l.kept.add(b[frameStart(ends, done):ends[done]])
			}
		}
		slow := l.cfg.Stream && n > 0 && errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil
		if err != nil && !slow {
			return done, start, err
		}
	}
	if l.confirmable && l.kept.due() { // forget what the peer has confirmed
		if q, ok := unacked(l.conn); ok {
			l.kept.confirm(l.kept.sent - q)
		}
		l.kept.trimmed()
	}
	return done, start, nil
}

func frameStart(ends []int, i int) int {
	if i == 0 {
		return 0
	}
	return ends[i-1]
}

// stalledOn says that err, from a write, is a timeout on a peer that is
// alive but not reading.
func (l *Link) stalledOn(ctx context.Context, err error) bool {
	return l.confirmable && ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) && stalled(l.conn)
}

// giveUp drops the connection after a failed write, a strike against its
// destination (see Dialer). On a confirmable one
// (unless ctx ended: the handler is closing, and the kernel may still
// deliver what it holds) it keeps the frames the peer has not wholly
// acknowledged for the next connection, and resets this one, so that
// none of its unsent bytes arrive after them.
func (l *Link) giveUp(ctx context.Context, err error) {
	l.dialer.WriteFailed(err)
	if l.confirmable && ctx.Err() == nil {
		if q, ok := unacked(l.conn); ok {
			l.kept.confirm(l.kept.sent - q)
			l.kept, l.resend = l.resend, l.kept
			l.conn.(*net.TCPConn).SetLinger(0)
		}
	}
	l.drop()
}

// ready makes sure there is a connection to write to: it drops one whose
// peer has gone and dials if there is none, and moves to the primary
// destination if a probe finds it back. A peer that closed in order
// reads what it was sent (netlog serve drains); one that reset the
// connection lost what it had not acknowledged, which goes again first on
// the next connection.
func (l *Link) ready(ctx context.Context) error {
	now := time.Now()
	if l.conn != nil && (closed(l.gone) || l.raw != nil && now.Sub(l.lastUse) >= IdlePeek && peerClosed(l.raw)) {
		if l.confirmable && resetByPeer(l.conn) {
			l.giveUp(ctx, errReset)
		} else {
			l.drop()
		}
	}
	l.lastUse = now
	if l.conn == nil {
		return l.connect(ctx)
	}
	if l.dialer.ProbeDue() {
		if conn, err := l.dialer.Probe(ctx, nil); err == nil {
			l.drop() // in order: the kernel still delivers what it holds
			return l.use(ctx, conn)
		}
	}
	return nil
}

var errReset = errors.New("the peer reset the connection")

func (l *Link) connect(ctx context.Context) error {
	conn, err := l.dialer.Connect(ctx)
	if err != nil {
		return err
	}
	return l.use(ctx, conn)
}

// use makes conn the Link's connection and sends it what the last one
// left unconfirmed.
func (l *Link) use(ctx context.Context, conn net.Conn) error {
	l.conn, l.deadline = conn, time.Time{}
	l.gone, l.raw = nil, nil
	l.confirmable = l.cfg.Stream && canConfirm(conn)
	if l.cfg.Stream {
		l.gone = make(chan struct{})
		go watch(conn, l.gone)
		l.raw = rawConn(conn)
	}
	return l.sendAgain(ctx)
}

// sendAgain writes the frames kept from the last connection first on the
// new one. If that fails, they stay kept, all of them, for the next.
func (l *Link) sendAgain(ctx context.Context) error {
	if len(l.resend.ends) == 0 {
		return nil
	}
	if _, err := l.write(ctx, l.resend.buf); err != nil {
		l.conn.(*net.TCPConn).SetLinger(0)
		l.drop()
		return fmt.Errorf("sending %d unconfirmed frames again: %w", len(l.resend.ends), err)
	}
	l.resent.Add(uint64(len(l.resend.ends)))
	l.kept, l.resend = l.resend, l.kept
	l.kept.sent = len(l.kept.buf)
	l.resend.reset()
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
// saves a timer update on most writes. It returns how many bytes went out.
func (l *Link) write(ctx context.Context, frame []byte) (int, error) {
	now := time.Now()
	want := now.Add(l.cfg.WriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(want) {
		want = d
	}
	if want.Before(l.deadline) || l.deadline.Sub(now) < l.cfg.WriteTimeout/2 {
		if err := l.conn.SetWriteDeadline(want); err != nil {
			return 0, err
		}
		l.deadline = want
	}
	return l.conn.Write(frame)
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
	l.conn, l.gone, l.raw = nil, nil, nil
	l.kept.reset()
	l.partial = 0
	return err
}

// WriteFrames writes whole frames, b[:ends[0]], b[ends[0]:ends[1]], …: a
// stream in one write, a datagram Link one frame per write. It dials if
// need be but never retries: it returns how many frames were written
// whole before an error, and after an error drops the connection, so
// that the caller (the spool's writer) decides when to try the rest.
// A stream write that times out after some bytes went through goes on:
// the peer is slow, not gone, and a new connection would let the rest
// overtake what the peer has yet to read. One that times out on a peer
// alive but not reading returns ErrStalled and keeps the connection; the
// caller must then pass the same frames again, and the part of the first
// already written is not written twice. A cancelled ctx interrupts a
// blocked write.
func (l *Link) WriteFrames(ctx context.Context, b []byte, ends []int) (int, error) {
	l.mu.Lock()
	for l.writing {
		l.cond.Wait()
	}
	l.writing = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.handOver()
		l.mu.Unlock()
	}()
	if err := l.ready(ctx); err != nil {
		return 0, err
	}
	conn := l.conn
	stop := context.AfterFunc(ctx, func() { conn.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	done, n, err := l.writeFrames(ctx, b, ends, l.partial)
	l.partial = 0
	switch {
	case err == nil:
		l.dialer.Delivered()
	case l.stalledOn(ctx, err):
		l.partial = n - frameStart(ends, done)
		err = fmt.Errorf("%w: %w", ErrStalled, err)
	default:
		l.giveUp(ctx, err)
	}
	return done, err
}

// RetryAt is when the Link will next try to connect after failed
// attempts; the zero time if it is not backing off.
func (l *Link) RetryAt() time.Time { return l.dialer.RetryAt() }

// Connects returns how many connections the Link has opened.
func (l *Link) Connects() uint64 { return l.dialer.Connects() }

// ConnectFailures returns how many connect attempts failed.
func (l *Link) ConnectFailures() uint64 { return l.dialer.ConnectFailures() }

// Dialer returns the Link's Dialer, which counts its failovers.
func (l *Link) Dialer() *Dialer { return l.dialer }

// Resent counts the frames sent again on a new connection because the
// peer of the old one had not acknowledged them when it was given up;
// some of them may have arrived twice.
func (l *Link) Resent() uint64 { return l.resent.Load() }

// Close waits for the write in flight, closes the connection, if any, and
// returns once its watcher has ended. A later Write reconnects. Frames
// kept to be sent again on the next connection are lost; the error says
// how many.
func (l *Link) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.writing {
		l.cond.Wait()
	}
	err := l.drop()
	if n := len(l.resend.ends); n > 0 {
		l.resend.reset()
		return fmt.Errorf("%d frames written to a failed connection were not sent again", n)
	}
	return err
}
