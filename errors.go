package netlog

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/internal/transport"
)

// The conditions a handler's errors report, whatever the handler:
// errors.Is(err, ErrQueueFull) holds for an asynchronous socket handler's
// overflow as for the SMTP handler's.
var (
	// ErrQueueFull: the record did not fit in the queue and was dropped.
	ErrQueueFull = errors.New("queue full, record dropped")
	// ErrClosed: the record came after Close, or Close dropped it.
	ErrClosed = errors.New("handler closed")
	// ErrBackingOff: the handler is waiting to redial a destination that
	// failed, and did not try.
	ErrBackingOff = errors.New("not connected, waiting to redial")
	// ErrTooLarge: the record is over the datagram limit; it is refused
	// whole, never truncated.
	ErrTooLarge = errors.New("record too large for one datagram")
	// ErrRefused: the destination received the record and refused it (a
	// RELP error code).
	ErrRefused = errors.New("the destination refused the record")
	// ErrDisk: a durable queue could not write the record to Async.Dir
	// (disk full, directory not writable); it was dropped.
	ErrDisk = errors.New("durable queue could not write, record dropped")
)

// sentinels maps the internal packages' errors to the conditions above.
var sentinels = []struct{ inner, outer error }{
	{spool.ErrFull, ErrQueueFull}, {spool.ErrTimeout, ErrQueueFull}, {spool.ErrClosed, ErrClosed},
	{transport.ErrBackingOff, ErrBackingOff}, {transport.ErrRefused, ErrRefused}, {spool.ErrDisk, ErrDisk},
}

// Cause says where a failure happened.
type Cause string

// The causes of an Error.
const (
	CauseDial    Cause = "dial"    // the connection could not be opened
	CauseTLS     Cause = "tls"     // the TLS handshake failed: certificate, version, alert
	CauseWrite   Cause = "write"   // writing to an open connection failed
	CauseRefused Cause = "refused" // the destination refused the records
	CauseDropped Cause = "dropped" // dropped by policy: queue full, too large, closed
	// CauseFailover: delivery moved to another destination of
	// Options.Fallbacks, or back to the primary; Records is 0.
	CauseFailover Cause = "failover"
)

// Error is a handler's failure: the error Handle, Flush and Close return,
// what Options.OnError receives, and Stats.LastError. errors.Is matches it
// against the sentinel errors (ErrQueueFull, …) and against what it wraps
// (an *x509.UnknownAuthorityError, a syscall.Errno, …).
type Error struct {
	Dest    string // the handler and its destination: "tcp 127.0.0.1:9020", "smtp mail.example.com:587"
	Cause   Cause
	Records int   // records affected: failed, dropped, or (async write) still queued for a retry
	Err     error // what went wrong
	// Suppressed counts the errors not passed to OnError since the
	// previous call, by its rate limit.
	Suppressed int

	is error // the sentinel it matches, if any
}

// Error names the destination once, then what went wrong.
func (e *Error) Error() string {
	s := "netlog: " + e.Dest + ": " + errText(e.Err)
	if e.Suppressed > 0 {
		s += " (and " + strconv.Itoa(e.Suppressed) + " more errors)"
	}
	return s
}

// Unwrap returns the sentinel it matches, if any, and Err.
func (e *Error) Unwrap() []error {
	if e.is == nil {
		return []error{e.Err}
	}
	return []error{e.is, e.Err}
}

// errText is err's text without the address a failed dial repeats
// ("dial tcp 127.0.0.1:9: connect: connection refused"): Dest names it.
func errText(err error) string {
	msg := err.Error()
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" || op.Err == nil || !strings.HasSuffix(msg, op.Error()) {
		return msg
	}
	inner := op.Err
	var sc *os.SyscallError
	if errors.As(inner, &sc) {
		inner = sc.Err
	}
	return strings.TrimSuffix(msg, op.Error()) + inner.Error()
}

// newError builds dest's error for err.
func newError(dest string, cause Cause, records int, err error) *Error {
	e := &Error{Dest: dest, Cause: cause, Records: records, Err: err}
	for _, s := range sentinels {
		if errors.Is(err, s.inner) || err == s.outer {
			e.is = s.outer
			break
		}
	}
	return e
}

// causeOf classifies an error from a connection.
func causeOf(err error) Cause {
	var op *net.OpError
	switch {
	case plug.IsTLSError != nil && plug.IsTLSError(err):
		return CauseTLS
	case errors.Is(err, transport.ErrRefused):
		return CauseRefused
	case errors.Is(err, spool.ErrFull), errors.Is(err, spool.ErrTimeout), errors.Is(err, spool.ErrClosed):
		return CauseDropped
	case errors.As(err, &op) && op.Op == "dial":
		return CauseDial
	}
	return CauseWrite
}

// ErrorInterval is the least time between two calls of Options.OnError.
const ErrorInterval = time.Second

// reporter keeps a handler's last error and passes errors to OnError off
// the caller's goroutine, one call at a time, at most once per
// ErrorInterval.
type reporter struct {
	dest    string
	onError func(error)

	mu         sync.Mutex
	last       *Error
	lastAt     time.Time
	next       time.Time     // no call before this
	suppressed int           // errors not passed on since the last call
	calling    chan struct{} // closed when the call in flight returns; nil if none
	closed     bool          // Close has waited: no more calls
}

// report records a failure of records records; a wait to redial is not
// news.
func (r *reporter) report(cause Cause, records int, err error) {
	if errors.Is(err, transport.ErrBackingOff) {
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Dest != r.dest {
		e = newError(r.dest, cause, records, err)
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last, r.lastAt = e, now
	if r.onError == nil || r.closed {
		return
	}
	if r.calling != nil || now.Before(r.next) {
		r.suppressed++
		return
	}
	call := *e
	call.Suppressed, r.suppressed = r.suppressed, 0
	r.next = now.Add(ErrorInterval)
	done := make(chan struct{})
	r.calling = done
	go func() {
		defer close(done)
		r.onError(&call)
		r.mu.Lock()
		r.calling = nil
		r.mu.Unlock()
	}()
}

// lastError returns the last error and its time.
func (r *reporter) lastError() (error, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		return nil, time.Time{}
	}
	return r.last, r.lastAt
}

// wait ends the reports: it waits for a call in flight until ctx ends.
func (r *reporter) wait(ctx context.Context) {
	r.mu.Lock()
	r.closed = true
	done := r.calling
	r.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
}

// closeContext bounds ctx by DefaultCloseTimeout if it has no deadline.
func closeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultCloseTimeout)
}
