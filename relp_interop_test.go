package netlog_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
)

func relpHandler(t *testing.T, addr string, async *netlog.Async) netlog.Handler {
	t.Helper()
	h, err := netlog.NewSyslogHandler("relp", addr, &netlog.SyslogOptions{Options: netlog.Options{
		Name: "relp-app", Async: async, Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// TestRsyslogRELP sends over RELP to rsyslog's imrelp, synchronously (each
// Handle returns once rsyslog acknowledged) and asynchronously.
func TestRsyslogRELP(t *testing.T) {
	r := peer.StartRsyslog(t, "", "", "")
	for _, async := range []*netlog.Async{nil, {}} {
		h := relpHandler(t, r.RELP, async)
		slog.New(h).Warn("over relp ✓", "k", "v")
		if err := h.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := r.Lines(t, 1, 10*time.Second)
		if len(got) != 1 {
			t.Fatalf("rsyslog wrote %q", got)
		}
		f := fields(t, got[0])
		if f["pri"] != "12" || f["app-name"] != "relp-app" || f["structured-data"] != `[slog@32473 k="v"]` || strings.TrimSpace(f["msg"]) != "over relp ✓" {
			t.Errorf("rsyslog wrote %v", f)
		}
		if st := h.Stats(); st.Written != 1 || st.Failed != 0 {
			t.Errorf("stats %+v", st)
		}
	}
}

// TestRsyslogRELPKill9 streams 200,000 records over RELP (async) to
// rsyslog's imrelp, and kills rsyslogd with SIGKILL three times, after
// each quarter is in its file, restarting it each time. Every record is in
// the file; the duplicates are counted.
func TestRsyslogRELPKill9(t *testing.T) {
	const n = 200_000
	r := peer.StartRsyslog(t, "", "", "")
	h := relpHandler(t, r.RELP, &netlog.Async{MaxRecords: n, MaxBytes: 1 << 30})
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for k := 1; k <= 3; k++ {
			for len(r.All()) < k*n/4 {
				time.Sleep(10 * time.Millisecond) // polling: a file gives no signal
			}
			r.Kill(t)
			r.Start(t)
		}
	}()
	log := slog.New(h)
	for i := range n {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	<-killed
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	seen := make([]int, n)
	rec := regexp.MustCompile(`rec(\d+)\.`)
	for _, l := range r.All() {
		if m := rec.FindStringSubmatch(l); m != nil {
			i, _ := strconv.Atoi(m[1])
			seen[i]++
		}
	}
	missing, dups := 0, 0
	for _, c := range seen {
		if c == 0 {
			missing++
		}
		dups += max(c-1, 0)
	}
	st := h.Stats()
	t.Logf("rsyslog imrelp killed 3 times: %d records missing, %d duplicated; stats %+v", missing, dups, st)
	if missing != 0 || st.Written != n || st.Connects < 4 {
		t.Errorf("%d of %d records missing; stats %+v", missing, n, st)
	}
}

// TestRsyslogRELPWindow128 sends 50,000 records over RELP (async, a window
// of 128) into rsyslog's imrelp, whose responses wait on its Nagle: every
// record is in rsyslog's file, once.
func TestRsyslogRELPWindow128(t *testing.T) {
	const n = 50_000
	r := peer.StartRsyslog(t, "", "", "")
	h, err := netlog.NewSyslogHandler("relp", r.RELP, &netlog.SyslogOptions{RELPWindow: 128, Options: netlog.Options{
		Name: "relp-app", Async: &netlog.Async{MaxRecords: n, MaxBytes: 1 << 30},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	log := slog.New(h)
	for i := range n {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatalf("flush: %v; stats %+v", err, h.Stats())
	}
	var got []int
	for _, l := range r.Lines(t, n, time.Minute) {
		if m := recNo.FindStringSubmatch(l); m != nil {
			i, _ := strconv.Atoi(m[1])
			got = append(got, i)
		}
	}
	if s := suffixSummary(got, 0, n); s != "" {
		t.Errorf("rsyslog wrote %d records, not rec0… rec%d in order: %s", len(got), n-1, s)
	}
	if st := h.Stats(); st.Written != n || st.Connects != 1 || st.Dropped.Total() != 0 {
		t.Errorf("stats %+v", st)
	}
}
