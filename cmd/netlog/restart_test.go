package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
)

// TestAsyncSurvivesRestarts streams a million records through an
// asynchronous socket handler while the netlog serve binary is stopped
// with SIGTERM and started again three times, after each quarter has
// arrived: each stop drains its connections, the records sent while it is
// down wait in the queue, and every record arrives, none after a newer
// one. The drain window is short (20 ms), far below a busy machine's
// scheduling delays: the server reads on while frames keep arriving, and
// what it cut off the handler sends again (duplicates are counted).
func TestAsyncSurvivesRestarts(t *testing.T) {
	const n = 1_000_000
	bin := buildNetlog(t)
	var printed atomic.Int64           // records printed by all runs
	restarts := make(chan struct{}, 3) // another quarter has arrived
	start := func(addr string) (counted, string) {
		return startCounted(t, bin, n, &printed, restarts, "--tcp", addr, "--udp", "", "--drain", "20ms")
	}
	stop := func(r counted) []int {
		if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		got := <-r.out
		if err := r.cmd.Wait(); err != nil {
			t.Errorf("netlog serve: %v", err)
		}
		return got
	}

	first, addr := start("127.0.0.1:0")
	h, err := netlog.NewSocketHandler("tcp", addr, &netlog.Options{
		Async:   &netlog.Async{MaxRecords: n, MaxBytes: 1 << 30},
		Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	outputs := make(chan []int, 4)
	last := make(chan counted, 1)
	go func() { // the restarts, while records are flowing
		r := first
		for range 3 {
			<-restarts
			outputs <- stop(r)
			r, _ = start(addr)
		}
		last <- r
	}()
	ctx := context.Background()
	for i := range n {
		r := slog.NewRecord(time.Now(), slog.LevelInfo, fmt.Sprintf("rec%d.", i), 0)
		if err := h.Handle(ctx, r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Minute) // generous: a busy machine
	defer cancel()
	if err := h.Flush(cctx); err != nil {
		t.Fatalf("%v; %d printed; stats %+v", err, printed.Load(), h.Stats())
	}
	st := h.Stats()
	if err := h.Close(cctx); err != nil {
		t.Fatal(err)
	}
	outputs <- stop(<-last)
	close(outputs)

	a, k := newArrivals(n), 0
	for got := range outputs {
		k++
		for _, i := range got {
			a.add(i)
		}
		t.Logf("netlog serve run %d printed %d records", k, len(got))
	}
	t.Logf("%v; stats %+v", a, st)
	if !a.ok(true) {
		t.Errorf("%v", a)
	}
	if st.Enqueued != n || st.Written != n || st.Dropped.Total() != 0 || st.Connects < 4 {
		t.Errorf("stats %+v", st)
	}
}
