package netlog_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testrecv"
	"github.com/netlog-go/netlog/record"
)

// The segment file format of internal/spool/disk.go, which a test that
// damages a file must know: a file header, then frames, each a header
// holding its length at [4:8] and its bytes.
const (
	segFileHdr  = 16
	segFrameHdr = 20
)

// durableOptions is a durable handler's options on dir, redialing a
// collector that is down every few milliseconds.
func durableOptions(dir string) *netlog.Options {
	return &netlog.Options{
		Async:   &netlog.Async{Dir: dir},
		Backoff: netlog.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond},
	}
}

// handleNumbered gives h a record carrying i and pad, returning Handle's
// error.
func handleNumbered(h netlog.Handler, i int, pad string) error {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "numbered", 0)
	r.AddAttrs(slog.Int("i", i), slog.String("pad", pad))
	return h.Handle(context.Background(), r)
}

// receiveNumbered reads len(want) records from r and fails the test with
// a summary (first difference, missing, unexpected) unless their numbers
// are want, in order.
func receiveNumbered(t *testing.T, r *testrecv.Receiver, want []int) {
	t.Helper()
	got := make([]int, 0, len(want))
	for range want {
		got = append(got, recordNumber(t, r.Next(t)))
	}
	if s := numberedSummary(got, want); s != "" {
		t.Error(s)
	}
}

// recordNumber is the number i that handleNumbered gave e.
func recordNumber(t *testing.T, e *record.Entry) int {
	t.Helper()
	switch i := testrecv.Map(e)["i"].(type) {
	case float64:
		return int(i)
	case int64:
		return int(i)
	}
	t.Fatalf("a record without a number i: %v", testrecv.Map(e))
	return 0
}

// numberedSummary says how got differs from want: where they first
// differ, what is missing and what is unexpected; "" if they are equal.
func numberedSummary(got, want []int) string {
	first := -1
	for k := range min(len(got), len(want)) {
		if got[k] != want[k] {
			first = k
			break
		}
	}
	if first < 0 && len(got) == len(want) {
		return ""
	}
	in := func(s []int) map[int]bool {
		m := make(map[int]bool, len(s))
		for _, v := range s {
			m[v] = true
		}
		return m
	}
	gotSet, wantSet := in(got), in(want)
	var missing, extra []int
	for _, v := range want {
		if !gotSet[v] {
			missing = append(missing, v)
		}
	}
	for _, v := range got {
		if !wantSet[v] {
			extra = append(extra, v)
		}
	}
	s := fmt.Sprintf("got %d records, want %d; missing %v; unexpected %v", len(got), len(want), head(missing), head(extra))
	if first >= 0 {
		s += fmt.Sprintf("; first difference at record %d: got %d, want %d", first, got[first], want[first])
	}
	return s
}

// head is at most the first 10 of s, for a message.
func head(s []int) []int { return s[:min(len(s), 10)] }

// segmentFiles lists the durable queue's segment files in dir.
func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkSums fails the test unless st adds up as Stats says a durable
// handler's counters do.
func checkSums(t *testing.T, when string, st netlog.Stats) {
	t.Helper()
	if st.Enqueued+st.Recovered != st.Written+st.Dropped.Total()+st.Pending+st.Stored {
		t.Errorf("%s: Enqueued %d + Recovered %d != Written %d + Dropped %d + Pending %d + Stored %d (%+v)", when,
			st.Enqueued, st.Recovered, st.Written, st.Dropped.Total(), st.Pending, st.Stored, st)
	}
}

// TestDurableCorruptByte: one byte flipped in the middle of a segment
// file that a closed handler left costs that one record: the next handler
// on the directory counts it as Corrupt and delivers every other record,
// in order.
func TestDurableCorruptByte(t *testing.T) {
	const n = 200
	dir := t.TempDir()
	addr := unusedAddr(t)
	a, err := netlog.NewSocketHandler("tcp", addr, durableOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("p", 100)
	for i := range n {
		if err := handleNumbered(a, i, pad); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Errorf("Close with the collector down and every record on disk: %v", err)
	}
	if st := a.Stats(); st.Stored != n || st.Dropped.Total() != 0 {
		t.Fatalf("after Close: Stored %d, Dropped %+v; want %d and none", st.Stored, st.Dropped, n)
	}

	files := segmentFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("%d segment files, want 1: %v", len(files), files)
	}
	damaged := n / 2
	flipPayloadByte(t, files[0], damaged)

	r := testrecv.StartAt(t, "tcp", addr)
	b := newHandler(t, false, "tcp", addr, durableOptions(dir))
	var want []int
	for i := range n {
		if i != damaged {
			want = append(want, i)
		}
	}
	receiveNumbered(t, r, want)
	fctx, fcancel := context.WithTimeout(context.Background(), time.Minute)
	defer fcancel()
	if err := b.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	st := b.Stats()
	if st.Corrupt != 1 || st.Recovered != n-1 || st.Written != n-1 {
		t.Errorf("Corrupt %d, Recovered %d, Written %d; want 1, %d, %d", st.Corrupt, st.Recovered, st.Written, n-1, n-1)
	}
	checkSums(t, "after recovery", st)
	select {
	case e := <-r.Entries:
		t.Errorf("a record beyond those stored arrived: %v", testrecv.Map(e))
	default:
	}
}

// flipPayloadByte flips a bit of a byte in the middle of the payload of
// the k-th frame (from 0) of the segment file at path.
func flipPayloadByte(t *testing.T, path string, k int) {
	t.Helper()
	m, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := segFileHdr
	for range k {
		at += segFrameHdr + int(binary.LittleEndian.Uint32(m[at+4:]))
	}
	size := int(binary.LittleEndian.Uint32(m[at+4:]))
	m[at+segFrameHdr+size/2] ^= 0x10
	if err := os.WriteFile(path, m, 0o600); err != nil {
		t.Fatal(err)
	}
}
