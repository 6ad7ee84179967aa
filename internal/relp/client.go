package relp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
)

// DefaultWindow is how many messages a Client keeps unacknowledged at
// most.
const DefaultWindow = 1024

// maxWrite bounds the bytes of one write: the window may hold far more.
const maxWrite = 256 << 10

// Client sends syslog messages over RELP. A message counts as delivered
// only once the server has acknowledged it; after a failure the caller (a
// handler's spool) sends the unacknowledged ones again on a new session,
// so a receiver that crashes loses nothing, at the price of a duplicate
// for each message it took but could not acknowledge. It implements
// transport.Sender and is safe for concurrent use.
//
// The window slides: up to window messages are unacknowledged, and new
// ones go out as soon as acknowledgments come in, so that each write
// carries the TCP acknowledgment of the responses just read. A client
// that waited for a whole window of responses would meet rsyslog's Nagle
// (librelp writes each response on its own, without TCP_NODELAY) and its
// own delayed ACK: 40 ms per window. Where nothing more is written (the
// last responses of a call, or one message at a time), TCP_QUICKACK, re-armed
// after every read (transport.QuickAck), stands in for that ACK.
type Client struct {
	dialer       *transport.Dialer
	writeTimeout time.Duration // bounds a write, and the wait for the next due response
	window       int
	acks         atomic.Uint64 // messages acknowledged, as each response comes
	unacked      atomic.Uint64 // messages written to sessions that failed before acknowledging them

	mu   sync.Mutex
	conn net.Conn
	rd   *Reader
	txnr int
	buf  []byte // the writer's
}

// NewClient returns a Client that connects through dialer when first used.
// window is how many messages may be unacknowledged (0: DefaultWindow).
func NewClient(dialer *transport.Dialer, writeTimeout time.Duration, window int) *Client {
	if window <= 0 {
		window = DefaultWindow
	}
	return &Client{dialer: dialer, writeTimeout: writeTimeout, window: window}
}

// ErrRefused reports a message the server answered with an error code;
// it wraps transport.ErrRefused, which the spool counts and retries a
// bounded number of times before it gives the message up.
var ErrRefused = fmt.Errorf("RELP: %w", transport.ErrRefused)

// Write delivers one message.
func (c *Client) Write(ctx context.Context, msg []byte) error {
	_, err := c.WriteFrames(ctx, msg, []int{len(msg)})
	return err
}

// WriteFrames sends the messages b[:ends[0]], b[ends[0]:ends[1]], …, and
// returns how many the server acknowledged, in order, before an error.
// After a refusal (a *transport.Refusal, counting the messages
// acknowledged after the refused one up to a second refusal) the session
// is kept; after any other error it is closed.
func (c *Client) WriteFrames(ctx context.Context, b []byte, ends []int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.open(ctx); err != nil {
		return 0, err
	}
	f := &flight{c: c, b: b, ends: ends, first: c.txnr + 1, room: make(chan struct{}, 1),
		wrote: make(chan struct{}, 1), done: make(chan struct{})}
	stop := context.AfterFunc(ctx, func() { f.fail(context.Cause(ctx)) })
	defer stop()
	go f.write()
	acked, err := f.read(ctx)
	if rf := (*transport.Refusal)(nil); err != nil && !errors.As(err, &rf) {
		c.drop()
		c.dialer.WriteFailed(err)
		c.unacked.Add(uint64(f.written() - acked))
	} else {
		c.dialer.Delivered()
	}
	return acked, err
}

// flight is one WriteFrames: the writer (a goroutine) writes messages
// while the caller reads their responses.
type flight struct {
	c     *Client
	b     []byte
	ends  []int
	first int // the transaction number of the first message

	mu     sync.Mutex
	sent   int   // messages written whole
	acked  int   // responses read, as the reader last told the writer
	halt   bool  // write no more: a refusal or a failure
	failed error // the first failure, which ended the session
	over   bool  // read has returned: the connection is no longer the flight's

	room  chan struct{} // the reader's doorbell to the writer: acked or halt changed
	wrote chan struct{} // the writer's to the reader: sent changed
	done  chan struct{} // closed when the writer has returned
}

// write writes the messages, as many at a time as the window allows.
func (f *flight) write() {
	defer close(f.done)
	c := f.c
	for next := 0; next < len(f.ends); {
		f.mu.Lock()
		halt, limit := f.halt, min(len(f.ends), f.acked+c.window)
		f.mu.Unlock()
		if halt {
			return
		}
		if next == limit {
			<-f.room
			continue
		}
		c.buf = c.buf[:0]
		for ; next < limit && len(c.buf) < maxWrite; next++ {
			c.buf = Append(c.buf, c.next(), "syslog", f.msg(next))
		}
		if !f.deadline(c.conn.SetWriteDeadline) {
			return
		}
		if _, err := c.conn.Write(c.buf); err != nil {
			f.fail(err)
			return
		}
		f.mu.Lock()
		f.sent = next
		f.mu.Unlock()
		ring(f.wrote)
	}
}

// written returns how many messages the writer wrote whole.
func (f *flight) written() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent
}

func (f *flight) msg(i int) []byte {
	start := 0
	if i > 0 {
		start = f.ends[i-1]
	}
	return f.b[start:f.ends[i]]
}

// read reads the responses as they are due, in order, and returns how
// many acknowledged their messages before a refusal or a failure; after a
// refusal, the error is a *transport.Refusal counting those acknowledged
// after it, up to a second refusal.
func (f *flight) read(ctx context.Context) (int, error) {
	var refusal *transport.Refusal // of the first message refused
	acked, counting := 0, true
	sent := 0 // how many the writer had written, when last looked at
	for i := 0; ; i++ {
		waits := f.c.rd.Buffered() == 0 // for the network
		if waits || i == sent {         // or for the writer
			f.answered(i) // first, so that the writer writes on meanwhile
		}
		if i == sent {
			if sent = f.due(i); i >= sent {
				break
			}
		}
		if waits && !f.deadline(f.c.conn.SetReadDeadline) {
			break
		}
		code, err := f.response(i)
		if err != nil {
			f.fail(err)
			break
		}
		switch {
		case !bytes.HasPrefix(code, []byte("200")):
			if refusal == nil {
				refusal = &transport.Refusal{Err: fmt.Errorf("%w: %q", ErrRefused, code)}
				f.stop()
			} else {
				counting = false // from a second refusal on, all is sent again
			}
		case refusal == nil:
			acked++
			f.c.acks.Add(1)
		case counting:
			refusal.After++
			f.c.acks.Add(1)
		}
	}
	<-f.done
	f.mu.Lock()
	failed := f.failed
	f.over = true // a context ending from now on concerns the next call
	f.mu.Unlock()
	switch {
	case failed != nil && ctx.Err() != nil:
		return acked, fmt.Errorf("RELP: %w", context.Cause(ctx))
	case failed != nil:
		return acked, failed
	case refusal != nil:
		return acked, refusal
	}
	return acked, nil
}

// due waits until the writer has written message i, or has given up
// before it, and returns how many messages it has written whole: more
// than i if the response to message i is due, else none.
func (f *flight) due(i int) int {
	for {
		f.mu.Lock()
		sent, failed := f.sent, f.failed
		f.mu.Unlock()
		if failed != nil {
			return 0
		}
		if i < sent {
			return sent
		}
		select {
		case <-f.wrote:
		case <-f.done:
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.failed != nil {
				return 0
			}
			return f.sent
		}
	}
}

// answered tells the writer that the responses to the first n messages
// are read: the window has room for as many more. The reader tells it
// only before it waits, not for each response.
func (f *flight) answered(n int) {
	f.mu.Lock()
	f.acked = n
	f.mu.Unlock()
	ring(f.room)
}

// response reads the response to message i and returns its code and text.
func (f *flight) response(i int) ([]byte, error) {
	r, err := f.c.rd.Next()
	if err != nil {
		return nil, err
	}
	want := (f.first+i-1)%MaxTxnr + 1
	switch {
	case r.Command == "serverclose":
		return nil, errors.New("the RELP server closed the session")
	case r.Command != "rsp" || r.Txnr != want:
		return nil, fmt.Errorf("%w: %d %s where the response to %d was due", ErrFrame, r.Txnr, r.Command, want)
	}
	return r.Data, nil
}

// deadline sets a read or write deadline writeTimeout from now, unless
// the flight has failed (a context that ends fails it): then it returns
// false. Under mu, so that no new deadline undoes fail's.
func (f *flight) deadline(set func(time.Time) error) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed != nil {
		return false
	}
	set(time.Now().Add(f.c.writeTimeout))
	return true
}

// fail records the first failure, stops the writer, and sets the
// connection's deadlines in the past so that a blocked read or write
// returns at once.
func (f *flight) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed != nil || f.over {
		return
	}
	f.failed, f.halt = err, true
	f.c.conn.SetDeadline(time.Unix(1, 0))
	ring(f.room)
}

// stop tells the writer to write no more messages: one was refused.
func (f *flight) stop() {
	f.mu.Lock()
	f.halt = true
	f.mu.Unlock()
	ring(f.room)
}

// ring wakes the goroutine waiting on a doorbell, if one does.
func ring(bell chan struct{}) {
	select {
	case bell <- struct{}{}:
	default:
	}
}

func (c *Client) next() int {
	c.txnr = c.txnr%MaxTxnr + 1
	return c.txnr
}

// open connects and opens a session, if there is none, or moves to the
// primary destination between two calls if a probe finds it back: every
// message of the old session was acknowledged, none is in flight.
func (c *Client) open(ctx context.Context) error {
	if c.conn != nil {
		if c.dialer.ProbeDue() {
			c.probe(ctx)
		}
		return nil
	}
	conn, err := c.dialer.Connect(ctx)
	if err != nil {
		return err
	}
	if err := c.session(ctx, conn); err != nil {
		c.dialer.Failed(time.Now(), err)
		return err
	}
	return nil
}

// probe opens a session with the primary destination and, if it opens,
// closes the current one; if not, the current one stays.
func (c *Client) probe(ctx context.Context) {
	old, rd, txnr := c.conn, c.rd, c.txnr
	_, err := c.dialer.Probe(ctx, func(conn net.Conn) error { return c.session(ctx, conn) })
	if err != nil {
		c.conn, c.rd, c.txnr = old, rd, txnr
		return
	}
	c.farewell(old, rd, txnr)
}

// session makes conn the Client's connection and opens a RELP session on
// it; if that fails, it closes conn.
func (c *Client) session(ctx context.Context, conn net.Conn) error {
	c.conn, c.rd, c.txnr = conn, NewReader(transport.QuickAck(conn), 64<<10), 0
	if err := c.command(ctx, "open", []byte(Offers)); err != nil {
		c.drop()
		return fmt.Errorf("RELP open: %w", err)
	}
	return nil
}

// command sends one command and reads its response, which must be
// positive, within writeTimeout.
func (c *Client) command(ctx context.Context, command string, data []byte) error {
	deadline := time.Now().Add(c.writeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.conn.Write(Append(c.buf[:0], c.next(), command, data)); err != nil {
		return err
	}
	r, err := c.rd.Next()
	switch {
	case err != nil:
		return err
	case r.Command != "rsp" || r.Txnr != c.txnr:
		return fmt.Errorf("%w: %d %s where the response to %d was due", ErrFrame, r.Txnr, r.Command, c.txnr)
	case !bytes.HasPrefix(r.Data, []byte("200")):
		return fmt.Errorf("%w: %q", ErrRefused, r.Data)
	}
	return nil
}

func (c *Client) drop() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.rd = nil, nil
	}
}

// Acknowledged counts the messages the server acknowledged, as each
// acknowledgment comes in: during a long WriteFrames it shows progress.
func (c *Client) Acknowledged() uint64 { return c.acks.Load() }

// Resent counts the messages written to a session that failed before
// the server acknowledged them: the caller's queue sends them again, and
// the server may have taken some of them.
func (c *Client) Resent() uint64 { return c.unacked.Load() }

// RetryAt is when the next connect may be tried.
func (c *Client) RetryAt() time.Time { return c.dialer.RetryAt() }

// Connects counts the sessions opened.
func (c *Client) Connects() uint64 { return c.dialer.Connects() }

// ConnectFailures counts failed connects and handshakes.
func (c *Client) ConnectFailures() uint64 { return c.dialer.ConnectFailures() }

// Dialer returns the Client's Dialer, which counts its failovers.
func (c *Client) Dialer() *transport.Dialer { return c.dialer }

// Close ends the session politely (see farewell) and closes the
// connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	defer c.drop()
	return c.farewell(c.conn, c.rd, c.txnr)
}

// farewell ends the session on conn, whose last transaction number was
// txnr, politely ("close", awaiting its response, of no set content, for
// up to a second) and closes conn.
func (c *Client) farewell(conn net.Conn, rd *Reader, txnr int) error {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write(Append(c.buf[:0], txnr%MaxTxnr+1, "close", nil)); err != nil {
		return err
	}
	_, err := rd.Next()
	return err
}
