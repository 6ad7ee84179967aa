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

// DefaultFailoverAfter is how many failures in a row on the current
// destination move a Dialer with fallbacks to the next one.
const DefaultFailoverAfter = 3

// Dest is a destination a Dialer can connect to besides its primary.
type Dest struct {
	Name string // its address, for reports
	Dial func(ctx context.Context) (net.Conn, error)
}

// Switch reports that a Dialer moved to another destination.
type Switch struct {
	From, To string
	Back     bool  // a return to the primary, which a probe found reachable
	Err      error // for a failover, the last failure on From
}

// Dialer opens connections with a timeout, and paces attempts after
// failures with a Backoff: after the n-th failure in a row, no attempt is
// made before Backoff.Delay(n) has passed. Every connection a handler
// makes goes through one.
//
// A Dialer with Fallbacks fails over: after FailoverAfter failures in a
// row on the current destination (connects, handshakes or writes, as
// its user reports them), it moves to the next, in order, wrapping
// around, and tries it at once. Each destination keeps its own backoff.
// While it is on a fallback, its user probes the primary between two
// batches once the primary's backoff allows (ProbeDue, Probe), and moves
// back to it when the probe connects. The user of the connection replays
// what the old destination had not acknowledged (the RELP client and the
// spool resend unacknowledged messages; a Link its unconfirmed bytes).
type Dialer struct {
	Dial    func(ctx context.Context) (net.Conn, error) // the primary
	Timeout time.Duration                               // per attempt
	Backoff Backoff                                     // normalized
	Now     func() time.Time

	Name          string       // the primary's address, for reports
	Fallbacks     []Dest       // tried in order after the primary
	FailoverAfter int          // 0: DefaultFailoverAfter
	OnSwitch      func(Switch) // told of each switch, if not nil; set before first use

	mu      sync.Mutex
	cur     int         // the destination in use: 0 the primary, i Fallbacks[i-1]
	state   []destState // per destination, made on first use
	strikes atomic.Int32
	away    atomic.Bool // cur != 0

	connects, connectFailures, failovers, failbacks atomic.Uint64
}

// destState is one destination's backoff.
type destState struct {
	failures int       // consecutive failed attempts
	retryAt  time.Time // no attempt before this
}

// states returns the per-destination state. mu is held.
func (d *Dialer) states() []destState {
	if d.state == nil {
		d.state = make([]destState, 1+len(d.Fallbacks))
	}
	return d.state
}

func (d *Dialer) dest(i int) Dest {
	if i == 0 {
		return Dest{Name: d.Name, Dial: d.Dial}
	}
	return d.Fallbacks[i-1]
}

// Connect makes one attempt on the current destination, unless the
// backoff forbids it for now (ErrBackingOff, which says until when); if
// that failure moves the Dialer on, it tries the next destination too.
func (d *Dialer) Connect(ctx context.Context) (net.Conn, error) {
	var err error
	for range 1 + len(d.Fallbacks) {
		conn, moved, e := d.try(ctx)
		if err == nil || !errors.Is(e, ErrBackingOff) {
			err = e // the failure that moved it says more than a wait
		}
		if conn != nil || !moved {
			return conn, err
		}
	}
	return nil, err
}

// try makes one attempt on the current destination; moved says that its
// failure made the Dialer fail over.
func (d *Dialer) try(ctx context.Context) (conn net.Conn, moved bool, err error) {
	now := d.Now()
	d.mu.Lock()
	i := d.cur
	st := d.states()[i]
	d.mu.Unlock()
	if now.Before(st.retryAt) {
		return nil, false, fmt.Errorf("%w until %s (%d failed attempts)", ErrBackingOff, st.retryAt.Format(time.RFC3339Nano), st.failures)
	}
	conn, err = d.dialOne(ctx, i)
	if err != nil {
		return nil, d.failed(i, now, err), err
	}
	d.mu.Lock()
	d.state[i] = destState{}
	d.mu.Unlock()
	d.connects.Add(1)
	return conn, false, nil
}

// dialOne dials destination i within Timeout; its error names the
// destination when there are several.
func (d *Dialer) dialOne(ctx context.Context, i int) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	conn, err := d.dest(i).Dial(dctx)
	switch {
	case err == nil:
		return conn, nil
	case len(d.Fallbacks) > 0:
		return nil, fmt.Errorf("connect to %s: %w", d.dest(i).Name, err)
	}
	return nil, fmt.Errorf("connect: %w", err)
}

// Failed counts a failed attempt made at now on the current destination:
// a handshake on top of a connection Connect made.
func (d *Dialer) Failed(now time.Time, err error) {
	d.mu.Lock()
	i := d.cur
	d.mu.Unlock()
	d.failed(i, now, err)
}

// failed counts a failed attempt on destination i and says whether it
// made the Dialer fail over.
func (d *Dialer) failed(i int, now time.Time, err error) bool {
	d.mu.Lock()
	st := &d.states()[i]
	st.failures++
	st.retryAt = now.Add(d.Backoff.Delay(st.failures))
	current := i == d.cur
	d.mu.Unlock()
	d.connectFailures.Add(1)
	return current && d.strike(err) // a failed probe of the primary is no strike
}

// WriteFailed counts a write that failed on a connection to the current
// destination, towards failing over; the backoff is not affected.
func (d *Dialer) WriteFailed(err error) { d.strike(err) }

// Delivered says that a write to the current destination succeeded: its
// failures in a row start again from zero.
func (d *Dialer) Delivered() {
	if d.strikes.Load() != 0 {
		d.strikes.Store(0)
	}
}

// strike counts a failure on the current destination and fails over to
// the next if it is the FailoverAfter-th in a row.
func (d *Dialer) strike(err error) bool {
	if len(d.Fallbacks) == 0 {
		return false
	}
	after := d.FailoverAfter
	if after <= 0 {
		after = DefaultFailoverAfter
	}
	if d.strikes.Add(1) < int32(after) {
		return false
	}
	d.mu.Lock()
	from := d.cur
	d.cur = (d.cur + 1) % len(d.states())
	d.strikes.Store(0)
	d.away.Store(d.cur != 0)
	to := d.cur
	d.mu.Unlock()
	d.failovers.Add(1)
	d.report(Switch{From: d.dest(from).Name, To: d.dest(to).Name, Err: fmt.Errorf("%d failures in a row: %w", after, err)})
	return true
}

// ProbeDue says that the Dialer is on a fallback and the primary's
// backoff allows an attempt: the caller should Probe before its next
// batch.
func (d *Dialer) ProbeDue() bool {
	if !d.away.Load() {
		return false
	}
	now := d.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	return !now.Before(d.state[0].retryAt)
}

// Probe dials the primary and runs setup (a handshake; nil for none) on
// the connection. If both succeed, the primary is current again and the
// connection is the caller's, who leaves the fallback's; if not, the
// failure counts towards the primary's backoff and the caller stays.
func (d *Dialer) Probe(ctx context.Context, setup func(net.Conn) error) (net.Conn, error) {
	now := d.Now()
	conn, err := d.dialOne(ctx, 0)
	if err == nil && setup != nil {
		if err = setup(conn); err != nil {
			conn.Close()
		}
	}
	if err != nil {
		d.failed(0, now, err)
		return nil, err
	}
	d.mu.Lock()
	from := d.cur
	d.cur, d.state[0] = 0, destState{}
	d.strikes.Store(0)
	d.away.Store(false)
	d.mu.Unlock()
	d.connects.Add(1)
	d.failbacks.Add(1)
	d.report(Switch{From: d.dest(from).Name, To: d.Name, Back: true})
	return conn, nil
}

func (d *Dialer) report(s Switch) {
	if d.OnSwitch != nil {
		d.OnSwitch(s)
	}
}

// RetryAt is when the next attempt may be made; the zero time if the
// last one on the current destination succeeded.
func (d *Dialer) RetryAt() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.states()[d.cur].retryAt
}

// Connects returns how many connections were opened.
func (d *Dialer) Connects() uint64 { return d.connects.Load() }

// ConnectFailures returns how many attempts failed.
func (d *Dialer) ConnectFailures() uint64 { return d.connectFailures.Load() }

// Failovers counts the moves to the next destination after failures.
func (d *Dialer) Failovers() uint64 { return d.failovers.Load() }

// Failbacks counts the returns to the primary once it was reachable again.
func (d *Dialer) Failbacks() uint64 { return d.failbacks.Load() }
