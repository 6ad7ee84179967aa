package latency

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

func TestDueAboutOneInEvery(t *testing.T) {
	var s Sampler
	const calls = 1 << 20
	due := 0
	for range calls {
		if s.Due() {
			due++
		}
	}
	// The gaps average Every calls; 1M calls make about 16,384 samples,
	// and their count's spread is far inside ±10%.
	if want := calls / Every; due < want*9/10 || due > want*11/10 {
		t.Errorf("%d of %d calls due, want about %d", due, calls, want)
	}
}

func TestQuantile(t *testing.T) {
	var s Sampler
	if got := s.Quantile(0.5); got != 0 {
		t.Errorf("Quantile of nothing = %v, want 0", got)
	}
	for i := 1000; i >= 1; i-- { // out of order
		s.Add(time.Duration(i))
	}
	var o Sampler
	o.Add(5000)
	s.Merge(&o)
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.5, 501}, {0.999, 1000}, {1, 5000}} {
		if got := s.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if s.Len() != 1001 {
		t.Errorf("Len = %d, want 1001", s.Len())
	}
}

func TestGrowKeepsAddFromAllocating(t *testing.T) {
	var s Sampler
	s.Grow(1000)
	if n := testing.AllocsPerRun(500, func() { s.Add(1) }); n != 0 {
		t.Errorf("Add after Grow allocates %v times a call", n)
	}
}

// countingHandler counts its records and fails the one numbered fail.
type countingHandler struct {
	slog.Handler
	n, fail int
}

var errFail = errors.New("fail")

func (h *countingHandler) Handle(context.Context, slog.Record) error {
	h.n++
	if h.n == h.fail {
		return errFail
	}
	return nil
}

func TestHandle(t *testing.T) {
	var s Sampler
	h := &countingHandler{fail: 500}
	for i := 1; i <= 1000; i++ {
		err := s.Handle(context.Background(), h, slog.Record{})
		if (i == 500) != errors.Is(err, errFail) {
			t.Fatalf("record %d: error %v", i, err)
		}
	}
	if h.n != 1000 || s.Len() == 0 || s.Len() > 1000/Every*2 {
		t.Errorf("the handler got %d of 1000 records, %d of them timed", h.n, s.Len())
	}
}
