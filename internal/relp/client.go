package relp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
)

// DefaultWindow is how many messages a Client sends before it waits for
// their acknowledgments.
const DefaultWindow = 1024

// Client sends syslog messages over RELP. A message counts as delivered
// only once the server has acknowledged it; after a failure the caller (a
// handler's spool) sends the unacknowledged ones again on a new session,
// so a receiver that crashes loses nothing, at the price of a duplicate
// for each message it took but could not acknowledge. It implements
// transport.Sender and is safe for concurrent use.
type Client struct {
	dialer       *transport.Dialer
	writeTimeout time.Duration // bounds a write and the wait for its acknowledgments
	window       int

	mu   sync.Mutex
	conn net.Conn
	rd   *Reader
	txnr int
	buf  []byte
}

// NewClient returns a Client that connects through dialer when first used.
// window is how many messages go out before their acknowledgments are
// awaited (0: DefaultWindow).
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

// WriteFrames sends the messages b[:ends[0]], b[ends[0]:ends[1]], … in
// windows, and returns how many the server acknowledged, in order, before
// an error. After an error the session is closed.
func (c *Client) WriteFrames(ctx context.Context, b []byte, ends []int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.open(ctx); err != nil {
		return 0, err
	}
	done := 0
	for done < len(ends) {
		n := min(len(ends)-done, c.window)
		c.buf = c.buf[:0]
		first := c.txnr + 1
		for i := done; i < done+n; i++ {
			start := 0
			if i > 0 {
				start = ends[i-1]
			}
			c.buf = Append(c.buf, c.next(), "syslog", b[start:ends[i]])
		}
		acked, err := c.exchange(ctx, first, n)
		done += acked
		if rf := (*transport.Refusal)(nil); errors.As(err, &rf) {
			return done, err // the session is in step: keep it
		}
		if err != nil {
			c.drop()
			return done, err
		}
	}
	return done, nil
}

// exchange writes c.buf, holding n commands numbered from first, and reads
// their responses; it returns how many were acknowledged, in order, and
// after a refusal, a *transport.Refusal counting those acknowledged after
// the refused one (up to a second refusal).
func (c *Client) exchange(ctx context.Context, first, n int) (int, error) {
	deadline := time.Now().Add(c.writeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.conn.Write(c.buf); err != nil {
		return 0, err
	}
	var refusal *transport.Refusal // of the first message refused
	acked, counting := 0, true
	for i := range n {
		f, err := c.rd.Next()
		if err != nil {
			return acked, err
		}
		want := (first+i-1)%MaxTxnr + 1
		switch {
		case f.Command == "serverclose":
			return acked, errors.New("the RELP server closed the session")
		case f.Command != "rsp" || f.Txnr != want:
			return acked, fmt.Errorf("%w: %d %s where the response to %d was due", ErrFrame, f.Txnr, f.Command, want)
		case !bytes.HasPrefix(f.Data, []byte("200")):
			if refusal == nil {
				refusal = &transport.Refusal{Err: fmt.Errorf("%w: %q", ErrRefused, f.Data)}
			} else {
				counting = false // from a second refusal on, all is sent again
			}
		case refusal == nil:
			acked++
		case counting:
			refusal.After++
		}
	}
	if refusal != nil {
		return acked, refusal
	}
	return n, nil
}

func (c *Client) next() int {
	c.txnr = c.txnr%MaxTxnr + 1
	return c.txnr
}

// open connects and opens a session, if there is none.
func (c *Client) open(ctx context.Context) error {
	if c.conn != nil {
		return nil
	}
	conn, err := c.dialer.Connect(ctx)
	if err != nil {
		return err
	}
	c.conn, c.rd, c.txnr = conn, NewReader(conn, 64<<10), 0
	c.buf = Append(c.buf[:0], c.next(), "open", []byte(Offers))
	if _, err := c.exchange(ctx, 1, 1); err != nil {
		c.drop()
		c.dialer.Failed(time.Now())
		return fmt.Errorf("RELP open: %w", err)
	}
	return nil
}

func (c *Client) drop() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.rd = nil, nil
	}
}

// RetryAt is when the next connect may be tried.
func (c *Client) RetryAt() time.Time { return c.dialer.RetryAt() }

// Connects counts the sessions opened.
func (c *Client) Connects() uint64 { return c.dialer.Connects() }

// ConnectFailures counts failed connects and handshakes.
func (c *Client) ConnectFailures() uint64 { return c.dialer.ConnectFailures() }

// Close ends the session politely ("close", awaiting its response, of no
// set content, for up to a second) and closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	defer c.drop()
	c.conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.conn.Write(Append(c.buf[:0], c.next(), "close", nil)); err != nil {
		return err
	}
	_, err := c.rd.Next()
	return err
}
