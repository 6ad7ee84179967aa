package transport

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff is the reconnect policy: after the n-th failed connect in a row
// the next attempt waits Initial·Factor^(n-1), at most Max — Python's
// SocketHandler schedule — shortened by a random fraction of up to Jitter
// so that many senders do not redial a restarted collector in step.
type Backoff struct {
	Initial time.Duration // first wait; default 1 s
	Factor  float64       // growth per failure; default 2
	Max     time.Duration // cap; default 30 s
	Jitter  float64       // 0 ≤ Jitter < 1; 0 means none
}

// DefaultBackoff is the policy a zero Backoff stands for.
var DefaultBackoff = Backoff{Initial: time.Second, Factor: 2, Max: 30 * time.Second, Jitter: 0.2}

// Normalize fills zero fields from DefaultBackoff (all of them, Jitter
// included, for the zero Backoff) and checks the result.
func (b Backoff) Normalize() (Backoff, error) {
	if b == (Backoff{}) {
		return DefaultBackoff, nil
	}
	if b.Initial == 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Factor == 0 {
		b.Factor = DefaultBackoff.Factor
	}
	if b.Max == 0 {
		b.Max = DefaultBackoff.Max
	}
	switch {
	case b.Initial < 0:
		return b, fmt.Errorf("backoff: Initial %v is negative", b.Initial)
	case b.Factor < 1:
		return b, fmt.Errorf("backoff: Factor %v is below 1", b.Factor)
	case b.Max < b.Initial:
		return b, fmt.Errorf("backoff: Max %v is below Initial %v", b.Max, b.Initial)
	case b.Jitter < 0 || b.Jitter >= 1:
		return b, fmt.Errorf("backoff: Jitter %v is outside [0, 1)", b.Jitter)
	}
	return b, nil
}

// Delay is the wait after the n-th consecutive failure (n ≥ 1).
func (b Backoff) Delay(n int) time.Duration {
	d := float64(b.Initial)
	for i := 1; i < n && d < float64(b.Max); i++ {
		d *= b.Factor
	}
	d = min(d, float64(b.Max))
	if b.Jitter > 0 {
		d *= 1 - b.Jitter*rand.Float64()
	}
	return time.Duration(d)
}

// Sleep waits d, or until ctx is done, and says whether ctx is still live:
// the pause between attempts of every retry loop.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
