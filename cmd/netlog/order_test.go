package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// arrivals checks a sequence of record numbers against the n sent, 0 to
// n-1: each should arrive once, none after a later one.
type arrivals struct {
	seen      []int
	max       int // the highest number arrived so far
	displaced int // arrived after a higher number
	worst     int // the largest such distance
	strange   int // numbers never sent
	distinct  int // records arrived at least once
}

func newArrivals(n int) *arrivals { return &arrivals{seen: make([]int, n), max: -1} }

// add takes the next record to arrive.
func (a *arrivals) add(i int) {
	if i < 0 || i >= len(a.seen) {
		a.strange++
		return
	}
	a.seen[i]++
	if a.seen[i] == 1 {
		a.distinct++
	}
	if a.seen[i] > 1 {
		return // a duplicate: counted as such, not as displaced
	}
	if i < a.max {
		a.displaced++
		a.worst = max(a.worst, a.max-i)
	}
	a.max = max(a.max, i)
}

// missing, duplicates and the first record missing (-1 if none).
func (a *arrivals) counts() (missing, dups, gap int) {
	gap = -1
	for i, c := range a.seen {
		if c == 0 {
			missing++
			if gap < 0 {
				gap = i
			}
		}
		dups += max(c-1, 0)
	}
	return missing, dups, gap
}

// String is the summary a failing order test prints.
func (a *arrivals) String() string {
	missing, dups, gap := a.counts()
	return fmt.Sprintf("%d of %d missing (first %d), %d duplicated, %d displaced (by up to %d), %d never sent",
		missing, len(a.seen), gap, dups, a.displaced, a.worst, a.strange)
}

// ok says every record arrived, in order; duplicates are allowed only if
// dupsOK.
func (a *arrivals) ok(dupsOK bool) bool {
	missing, dups, _ := a.counts()
	return missing == 0 && a.displaced == 0 && a.strange == 0 && (dupsOK || dups == 0)
}

// TestSyncStallKeepsOrder: a sync socket handler writes 40,000 records
// to a receiver whose output stops for 3 s after the 10,000th, long enough
// for the handler's writes to time out (the socket buffers fill), and then
// resumes. The caller retries a record Handle returned an error for.
// Every record arrives, once, and none after a newer one: the handler
// does not open a second connection beside the one the receiver has yet
// to read.
func TestSyncStallKeepsOrder(t *testing.T) {
	const n, stallAt, writeTimeout = 40_000, 10_000, 300 * time.Millisecond
	var mu sync.Mutex
	a := newArrivals(n)
	var count atomic.Int64
	srv := &receive.Server{Sink: receive.SinkFunc(func(e *record.Entry) error {
		if count.Add(1) == stallAt {
			time.Sleep(10 * writeTimeout) // the stall under test
		}
		m := recordNo.FindStringSubmatch(e.Msg)
		i := -1
		if m != nil {
			i, _ = strconv.Atoi(m[1])
		}
		mu.Lock()
		a.add(i)
		mu.Unlock()
		return nil
	}), OnRefuse: func(r receive.Report) { t.Logf("%v", r) }}
	// A small receive buffer, fixed before the connection exists: the
	// sender's buffer alone (up to 4 MiB) then holds what the stall backs up.
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error { return setRcvBuf(rc, 64<<10) }}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.ServeStream(ctx, ln) }()
	defer func() { cancel(); <-served }()

	h, err := netlog.NewSocketHandler("tcp", ln.Addr().String(), &netlog.Options{
		WriteTimeout: writeTimeout,
		Backoff:      netlog.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	failures, slowest := 0, time.Duration(0)
	for i := range n {
		for {
			t0 := time.Now()
			err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, fmt.Sprintf("rec%d.", i), 0))
			slowest = max(slowest, time.Since(t0))
			if err == nil {
				break
			}
			if failures++; failures > 10_000 {
				t.Fatalf("record %d: %v (%d failures)", i, err, failures)
			}
		}
	}
	if failures == 0 && slowest < writeTimeout {
		t.Fatalf("no write waited out the write timeout (slowest %v): the stall was not felt", slowest)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Error(err)
	}
	deadline := time.Now().Add(time.Minute)
	for done := false; !done && time.Now().Before(deadline); {
		mu.Lock()
		done = a.distinct == n
		mu.Unlock()
		time.Sleep(10 * time.Millisecond) // polling a condition, with a generous deadline
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d Handle errors retried, slowest Handle %v; %v; stats %+v", failures, slowest, a, h.Stats())
	if !a.ok(false) {
		t.Errorf("%v", a)
	}
}
