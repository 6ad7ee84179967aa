// Package latency samples how long calls take, for benchmarks that report
// a caller's latency (p50, p99, p999) beside a throughput: timing every
// call would add two clock reads to each and dominate a call of a few
// hundred nanoseconds, so a Sampler times about one call in Every.
package latency

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"
)

// Every is how many calls a Sampler lets pass per call it times, on
// average.
const Every = 64

// A Sampler chooses which calls to time and keeps their durations. The
// gap between two timed calls is drawn at random (1 to 2·Every-1 calls),
// so that the samples do not fall into step with a queue that does
// something every k calls (starts a batch, a segment, an fsync). The zero
// value times the first call. It is not safe for concurrent use: give
// each calling goroutine its own and Merge them.
type Sampler struct {
	left int     // calls until the next timed one
	ns   []int64 // the timed calls' durations, sorted by Quantile
}

// Due says whether to time this call; call it once per call.
func (s *Sampler) Due() bool {
	s.left--
	if s.left > 0 {
		return false
	}
	s.left = 1 + rand.IntN(2*Every-1)
	return true
}

// Handle calls h.Handle, timing it if it is due: what a benchmark of a
// slog handler's callers does with each record.
func (s *Sampler) Handle(ctx context.Context, h slog.Handler, r slog.Record) error {
	if !s.Due() {
		return h.Handle(ctx, r)
	}
	t0 := time.Now()
	err := h.Handle(ctx, r)
	s.Add(time.Since(t0))
	return err
}

// Grow makes room for n more durations, for a benchmark that times
// every call (Add without Due) and must not allocate while it does.
func (s *Sampler) Grow(n int) { s.ns = slices.Grow(s.ns, n) }

// Add keeps one timed call's duration.
func (s *Sampler) Add(d time.Duration) { s.ns = append(s.ns, int64(d)) }

// Merge adds o's durations to s's.
func (s *Sampler) Merge(o *Sampler) { s.ns = append(s.ns, o.ns...) }

// Len is how many calls were timed.
func (s *Sampler) Len() int { return len(s.ns) }

// Quantile is the duration that the fraction q (0 to 1) of the timed
// calls did not exceed; 0 if none was timed.
func (s *Sampler) Quantile(q float64) time.Duration {
	if len(s.ns) == 0 {
		return 0
	}
	slices.Sort(s.ns) // cheap when already sorted
	return time.Duration(s.ns[int(q*float64(len(s.ns)-1))])
}

// Quantiles are the ones every benchmark reports, with the names of
// their metrics.
var Quantiles = []struct {
	Name string
	Q    float64
}{{"p50", 0.50}, {"p99", 0.99}, {"p999", 0.999}}
