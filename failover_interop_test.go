package netlog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
)

// recCounts counts, per record number below n, its lines in a daemon's
// file, and returns the lowest number found (n if none).
func recCounts(lines []string, n int) (seen []int, lowest int) {
	seen, lowest = make([]int, n), n
	for _, l := range lines {
		if m := recNo.FindStringSubmatch(l); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i < n {
				seen[i]++
				lowest = min(lowest, i)
			}
		}
	}
	return seen, lowest
}

// until polls cond (a file or a counter gives no signal) for up to five
// minutes.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited five minutes for %s", what)
		}
	}
}

// TestRsyslogRELPFailover streams 20,000 records over
// syslog+relp://primary,secondary (async) and kills the primary rsyslog
// with SIGKILL once a quarter is in its file: delivery moves to the
// secondary, which receives from the first record the primary had not
// acknowledged on; the primary is started again on its port and, once a
// probe finds it, records go to it again. Across the two files no
// record is missing; duplicates (records the primary wrote but did not
// acknowledge before it died) are no more than the sender's Resent; one
// failover and one failback are counted, and the failback is reported
// through OnError.
func TestRsyslogRELPFailover(t *testing.T) {
	const n = 20_000
	p, s := peer.StartRsyslog(t, "", "", ""), peer.StartRsyslog(t, "", "", "")
	var mu sync.Mutex
	var reports []*netlog.Error
	h, err := netlog.Open("syslog+relp://"+p.RELP+","+s.RELP+"?async=true&buffer=100000&failover-after=3", &netlog.Options{
		Name: "relp-app", Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		OnError: func(err error) {
			var e *netlog.Error
			if errors.As(err, &e) && e.Cause == netlog.CauseFailover {
				mu.Lock()
				reports = append(reports, e)
				mu.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	log := slog.New(h)
	go func() {
		for i := range n {
			log.Info(fmt.Sprintf("rec%d.", i))
		}
	}()
	until(t, "a quarter in the primary's file", func() bool { return len(p.All()) >= n/4 })
	p.Kill(t)
	acked := int(h.Stats().Acknowledged)
	pSeen, _ := recCounts(p.All(), n)
	firstMissing := 0
	for firstMissing < n && pSeen[firstMissing] > 0 {
		firstMissing++
	}
	until(t, "a failover", func() bool { return h.Stats().Failovers == 1 })
	until(t, "records in the secondary's file", func() bool { _, low := recCounts(s.All(), n); return low < n })
	_, low := recCounts(s.All(), n)
	t.Logf("primary killed with %d records acknowledged so far (acknowledgments still in the socket may follow), %d the first not in its file; the secondary's first record: %d", acked, firstMissing, low)
	if low > firstMissing || low < acked {
		t.Errorf("the secondary's first record is %d, want the first the primary had not acknowledged (%d) or not written (%d)", low, acked, firstMissing)
	}
	time.Sleep(netlog.ErrorInterval) // the failback's report is not rate-limited away
	p.Start(t)
	total, deadline := n, time.Now().Add(5*time.Minute)
	for ; h.Stats().Failbacks == 0; total++ { // records flow until a batch has probed the primary
		if time.Now().After(deadline) {
			t.Fatalf("no failback within five minutes; stats %+v", h.Stats())
		}
		log.Info(fmt.Sprintf("rec%d.", total))
		time.Sleep(time.Millisecond)
	}
	after := total
	for range 1000 {
		log.Info(fmt.Sprintf("rec%d.", total))
		total++
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	pSeen, _ = recCounts(p.All(), total)
	sSeen, _ := recCounts(s.All(), total)
	both := make([]int, total)
	for i := range both {
		both[i] = pSeen[i] + sSeen[i]
	}
	missing, dups, first := gaps(both)
	t.Logf("%d records over two rsyslogs, primary killed and back: %d missing, %d duplicated, first gap at %d; stats %+v", total, missing, dups, first, st)
	if missing != 0 || uint64(dups) > st.Resent || st.Written != uint64(total) || st.Failovers != 1 || st.Failbacks != 1 {
		t.Errorf("%d missing, %d duplicated (resent %d), first gap at %d; written %d of %d, failovers %d, failbacks %d",
			missing, dups, st.Resent, first, st.Written, total, st.Failovers, st.Failbacks)
	}
	for i := after; i < total; i++ {
		if pSeen[i] == 0 {
			t.Errorf("record %d, logged after the failback, is not in the primary's file", i)
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	last := reports[len(reports)-1:]
	if len(last) == 0 || !strings.Contains(last[0].Error(), "failback from "+s.RELP+" to "+p.RELP) {
		t.Errorf("OnError's failover reports: %v", reports)
	}
}

// gaps says how many records are missing, duplicated, and the first
// missing one (-1 if none).
func gaps(seen []int) (missing, dups, first int) {
	first = -1
	for i, c := range seen {
		if c == 0 {
			if missing++; first < 0 {
				first = i
			}
		}
		dups += max(c-1, 0)
	}
	return missing, dups, first
}

// TestOpenFallbacksRefused: a bad address in the host list, a fallback on
// another network, or failover-after without fallbacks is an error at
// Open that names it.
func TestOpenFallbacksRefused(t *testing.T) {
	for url, want := range map[string]string{
		"tcp://127.0.0.1:9020,127.0.0.1":                   `fallback "127.0.0.1"`,
		"syslog+relp://127.0.0.1:2514,,127.0.0.1:2515":     `fallback ""`,
		"syslog+tcp://127.0.0.1:514,bad_host!:514":         `fallback "bad_host!:514"`,
		"tcp://127.0.0.1:9020?failover-after=2":            "failover-after",
		"tcp://127.0.0.1:9020,[::1]:9020?failover-after=x": "failover-after",
	} {
		if _, err := netlog.Open(url, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error naming %s", url, err, want)
		}
	}
	_, err := netlog.NewSocketHandler("tcp", "127.0.0.1:9020", &netlog.Options{Fallbacks: []string{"udp://127.0.0.1:9021"}})
	if err == nil || !strings.Contains(err.Error(), `fallback "udp://127.0.0.1:9021"`) {
		t.Errorf("a fallback on another network: %v", err)
	}
	h, err := netlog.Open("tcp://127.0.0.1:9020,[::1]:9020?failover-after=2", nil)
	if err != nil {
		t.Fatalf("an IPv6 fallback: %v", err)
	}
	h.Close(context.Background())
}
