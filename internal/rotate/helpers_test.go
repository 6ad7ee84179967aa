package rotate

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// clock is a test's clock: it moves only when the test moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// piece is one file of a rotated path: a rotated one (oldest first),
// then the live one.
type piece struct {
	name string
	data []byte
}

// pieces reads every file of path, oldest first, gunzipping the
// compressed ones; it fails the test on a .gz.tmp, or on a file both
// compressed and not.
func pieces(t *testing.T, path string) []piece {
	t.Helper()
	files, err := list(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []piece
	for _, r := range files {
		if r.tmp || (r.gz && r.plain) {
			t.Fatalf("%s: left half compressed: %+v", r.name, *r)
		}
		name := r.name
		if r.gz {
			name += gzExt
		}
		out = append(out, piece{name, readFile(t, name)})
	}
	return append(out, piece{path, readFile(t, path)})
}

// readFile reads a file, gunzipped if its name ends in .gz.
func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(name, gzExt) {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b, err = io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// tally checks numbered lines "… wW: SEQ" (as receive.Printer prints an
// Entry named wW with message SEQ) from several writers, read in file
// order: each writer's 0…n-1 exactly once and in order, no line cut by a
// file's end. It returns a summary of what is wrong, "" if nothing.
func tally(ps []piece, writers, n int) string {
	seen := make([][]int, writers) // seen[w][seq] = times
	last := make([]int, writers)
	var problems []string
	outOfOrder := 0
	for w := range seen {
		seen[w], last[w] = make([]int, n), -1
	}
	for _, p := range ps {
		if len(p.data) > 0 && p.data[len(p.data)-1] != '\n' {
			problems = append(problems, fmt.Sprintf("%s ends in a partial line", p.name))
		}
		for line := range strings.Lines(string(p.data)) {
			w, seq, ok := parseLine(line, writers, n)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: bad line %q", p.name, line))
				continue
			}
			if seen[w][seq]++; seq < last[w] {
				if outOfOrder++; outOfOrder == 1 {
					problems = append(problems, fmt.Sprintf("w%d: %d after %d in %s", w, seq, last[w], p.name))
				}
			}
			last[w] = seq
		}
	}
	for w, counts := range seen {
		missing, dup, firstGap := 0, 0, -1
		for seq, c := range counts {
			if c == 0 && firstGap < 0 {
				firstGap = seq
			}
			missing += max(0, 1-c)
			dup += max(0, c-1)
		}
		if missing+dup > 0 {
			problems = append(problems, fmt.Sprintf("w%d: %d missing (first %d), %d duplicated", w, missing, firstGap, dup))
		}
	}
	if outOfOrder > 0 {
		problems = append(problems, fmt.Sprintf("%d lines out of order", outOfOrder))
	}
	if len(problems) > 10 {
		problems = append(problems[:10], fmt.Sprintf("… and %d more", len(problems)-10))
	}
	return strings.Join(problems, "\n")
}

func parseLine(line string, writers, n int) (w, seq int, ok bool) {
	_, rest, ok := strings.Cut(line, " w")
	name, num, ok2 := strings.Cut(strings.TrimSuffix(rest, "\n"), ": ")
	w, err := strconv.Atoi(name)
	seq, err2 := strconv.Atoi(num)
	if !ok || !ok2 || err != nil || err2 != nil || w < 0 || w >= writers || seq < 0 || seq >= n {
		return 0, 0, false
	}
	return w, seq, true
}

// settle waits for f's background work, with a deadline generous for a
// busy machine.
func settle(t *testing.T, f *File) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.Settle(ctx); err != nil {
		t.Fatal(err)
	}
}

func mustOpen(t *testing.T, path string, cfg Config) *File {
	t.Helper()
	f, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mustWrite(t *testing.T, f *File, s string) {
	t.Helper()
	if n, err := f.Write([]byte(s)); err != nil || n != len(s) {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

// stream is writers printing numbered records 0…n-1 each through a
// receive.Printer, in phases: record seq is in phase seq*phases/n, and a
// writer starts phase k+1 only once the test has called next(k), so that
// what the test did at the end of phase k (an external rotation and a
// Reopen) comes before every record of the phases after.
type stream struct {
	t                  *testing.T
	writers, n, phases int
	gates              []chan struct{}
	written            chan struct{}
	seen               int
	wg                 sync.WaitGroup
	closeOnce          sync.Once
}

func startStream(t *testing.T, p *receive.Printer, writers, n, phases int) *stream {
	s := &stream{t: t, writers: writers, n: n, phases: phases, written: make(chan struct{}, writers*n)}
	for range phases {
		s.gates = append(s.gates, make(chan struct{}))
	}
	for w := range writers {
		s.wg.Go(func() {
			for seq := range n {
				if k := s.phase(seq); seq > 0 && k != s.phase(seq-1) {
					<-s.gates[k-1]
				}
				if err := p.Write(&record.Entry{Name: "w" + strconv.Itoa(w), LevelName: "INFO", Msg: strconv.Itoa(seq)}); err != nil {
					t.Error(err)
					return
				}
				s.written <- struct{}{}
			}
		})
	}
	t.Cleanup(s.finish) // a failed test's writers are not left waiting
	return s
}

func (s *stream) phase(seq int) int { return seq * s.phases / s.n }

// midPhase waits until the writers, together, have written half of
// phase k: some may still be writing it while the test acts.
func (s *stream) midPhase(k int) {
	for want := s.writers * (k*s.n/s.phases + s.n/s.phases/2); s.seen < want; s.seen++ {
		<-s.written
	}
}

// next lets the writers start phase k+1.
func (s *stream) next(k int) { close(s.gates[k]) }

// finish lets every phase run, and waits for the writers.
func (s *stream) finish() {
	s.closeOnce.Do(func() {
		for _, g := range s.gates {
			select {
			case <-g:
			default:
				close(g)
			}
		}
	})
	s.wg.Wait()
}

// check reads ps in order and fails the test unless every record is in
// exactly one file, in order, and none of phase k+1 is in a file before
// the k+1th, where it could only be if the File wrote on to the old file
// after the action that ended phase k.
func (s *stream) check(ps []piece) {
	s.t.Helper()
	s.finish()
	if bad := tally(ps, s.writers, s.n); bad != "" {
		s.t.Fatalf("%d files:\n%s", len(ps), bad)
	}
	for i, p := range ps {
		for line := range strings.Lines(string(p.data)) {
			if w, seq, _ := parseLine(line, s.writers, s.n); s.phase(seq) > i {
				s.t.Fatalf("w%d's record %d (phase %d) is in file %d, %s: written to a file moved away before", w, seq, s.phase(seq), i, p.name)
			}
		}
	}
}
