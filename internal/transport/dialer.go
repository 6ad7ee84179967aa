package transport

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Dialer opens connections with a timeout, and paces attempts after
// failures with a Backoff: after the n-th failure in a row, no attempt is
// made before Backoff.Delay(n) has passed. Every connection a handler
// makes goes through one.
type Dialer struct {
	Dial    func(ctx context.Context) (net.Conn, error)
	Timeout time.Duration // per attempt
	Backoff Backoff       // normalized
	Now     func() time.Time

	mu       sync.Mutex
	failures int       // consecutive failed attempts
	retryAt  time.Time // no attempt before this

	connects, connectFailures atomic.Uint64
}

// Connect makes one attempt, unless the backoff forbids it for now
// (ErrBackingOff, which says until when).
func (d *Dialer) Connect(ctx context.Context) (net.Conn, error) {
	now := d.Now()
	d.mu.Lock()
	retryAt, failures := d.retryAt, d.failures
	d.mu.Unlock()
	if now.Before(retryAt) {
		return nil, fmt.Errorf("%w until %s (%d failed attempts)", ErrBackingOff, retryAt.Format(time.RFC3339Nano), failures)
	}
	dctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	conn, err := d.Dial(dctx)
	if err != nil {
		d.Failed(now)
		return nil, fmt.Errorf("connect: %w", err)
	}
	d.mu.Lock()
	d.failures, d.retryAt = 0, time.Time{}
	d.mu.Unlock()
	d.connects.Add(1)
	return conn, nil
}

// Failed counts a failed attempt made at now: a dial, or a handshake on
// top of one.
func (d *Dialer) Failed(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failures++
	d.retryAt = now.Add(d.Backoff.Delay(d.failures))
	d.connectFailures.Add(1)
}

// RetryAt is when the next attempt may be made; the zero time if the
// last one succeeded.
func (d *Dialer) RetryAt() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.retryAt
}

// Connects returns how many connections were opened.
func (d *Dialer) Connects() uint64 { return d.connects.Load() }

// ConnectFailures returns how many attempts failed.
func (d *Dialer) ConnectFailures() uint64 { return d.connectFailures.Load() }
