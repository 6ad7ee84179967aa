package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// gate is a destination the test opens and closes: while closed every
// write fails; while open it takes up to budget frames (-1: any number)
// and records them.
type gate struct {
	mu     sync.Mutex
	budget int
	got    []string
}

var errGateClosed = errors.New("gate closed")

func (g *gate) allow(n int) {
	g.mu.Lock()
	g.budget = n
	g.mu.Unlock()
}

func (g *gate) WriteFrames(_ context.Context, b []byte, ends []int) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	start := 0
	for i, end := range ends {
		if g.budget == 0 {
			return i, errGateClosed
		}
		g.budget--
		g.got = append(g.got, strings.TrimSuffix(string(b[start:end]), "\n"))
		start = end
	}
	return len(ends), nil
}

func (g *gate) Write(ctx context.Context, frame []byte) error {
	_, err := g.WriteFrames(ctx, frame, []int{len(frame)})
	return err
}
func (g *gate) RetryAt() time.Time      { return time.Now().Add(time.Millisecond) }
func (g *gate) Close() error            { return nil }
func (g *gate) Connects() uint64        { return 0 }
func (g *gate) ConnectFailures() uint64 { return 0 }
func (g *gate) arrived() []string       { g.mu.Lock(); defer g.mu.Unlock(); return slices.Clone(g.got) }
func names(from, to int) (out []string) {
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint("r", i))
	}
	return out
}

// putAll puts names with severities cycling through all eight.
func putAll(t *testing.T, s *Spool, ns []string) {
	t.Helper()
	for i, n := range ns {
		if err := s.Put(context.Background(), []byte(n+"\n"), i*5%Severities); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
}

// until waits for cond, looking every millisecond, up to a minute.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
	}
}

// summary says how got differs from want: counts, not every record.
func summary(got, want []string) string {
	if slices.Equal(got, want) {
		return ""
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	missing, dup := 0, 0
	for _, w := range want {
		if seen[w] == 0 {
			missing++
		}
		if seen[w] > 1 {
			dup += seen[w] - 1
		}
	}
	first := min(len(got), len(want))
	for i := range first {
		if got[i] != want[i] {
			first = i
			break
		}
	}
	return fmt.Sprintf("got %d records, want %d: %d missing, %d duplicated, first difference at %d", len(got), len(want), missing, dup, first)
}

func newDisk(t *testing.T, g *gate, cfg Config) *Spool {
	t.Helper()
	s, err := New(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDiskRecoversInOrder: what a Spool leaves in its directory at Close
// is sent first, in order, by the next one, and once delivered its files
// are gone.
func TestDiskRecoversInOrder(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dir := t.TempDir()
	a := newDisk(t, &gate{}, Config{Dir: dir})
	putAll(t, a, names(0, 300))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if c := a.Counts(); c.Stored != 300 || c.Dropped.Total() != 0 {
		t.Errorf("first spool: %+v", c)
	}
	g := &gate{} // closed while the counts are read
	b := newDisk(t, g, Config{Dir: dir})
	if c := b.Counts(); c.Recovered != 300 || c.Pending != 300 || c.Corrupt != 0 {
		t.Errorf("second spool at start: %+v", c)
	}
	g.allow(-1)
	putAll(t, b, names(300, 310))
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := summary(g.arrived(), names(0, 310)); s != "" {
		t.Error(s)
	}
	if c := b.Counts(); c.Enqueued+c.Recovered != c.Written+c.Dropped.Total()+c.Pending+c.Stored || c.Stored != 0 {
		t.Errorf("second spool: %+v", c)
	}
	if f := segFiles(t, dir); len(f) != 0 {
		t.Errorf("segment files left after delivery: %v", f)
	}
}

// TestDiskCrash: a copy of the directory taken while a Spool runs — what
// a killed process leaves — holds exactly the frames not yet delivered.
func TestDiskCrash(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dir := t.TempDir()
	g := &gate{}
	a := newDisk(t, g, Config{Dir: dir})
	putAll(t, a, names(0, 150))
	g.allow(100)
	until(t, "100 records delivered", func() bool { return a.Counts().Written == 100 })
	crashed := snapshot(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	a.Close(ctx)

	g2 := &gate{budget: -1}
	b := newDisk(t, g2, Config{Dir: crashed})
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := summary(g2.arrived(), names(100, 150)); s != "" {
		t.Error(s)
	}
}

// snapshot copies dir's segment files, as they are now, to a new
// directory.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	to := t.TempDir()
	for _, f := range segFiles(t, dir) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// TestDiskDamage: a damaged frame costs that frame and no other, wherever
// the damage is; a torn tail is counted and skipped.
func TestDiskDamage(t *testing.T) {
	for _, tc := range []struct {
		name string
		harm func(m []byte, at []int) // at: where each frame's header starts
		lost []int
	}{
		{"payload byte", func(m []byte, at []int) { m[at[10]+frameHdr+1] ^= 0x40 }, []int{10}},
		{"length byte", func(m []byte, at []int) { m[at[5]+5] ^= 0x01 }, []int{5}},
		{"sequence byte", func(m []byte, at []int) { m[at[7]+13] ^= 0x80 }, []int{7}},
		{"mark cleared", func(m []byte, at []int) { m[at[3]] = 0 }, nil}, // whole frame: still sent
		{"mark garbled", func(m []byte, at []int) { m[at[3]] = 0x17 }, nil},
		{"torn tail", func(m []byte, at []int) { m[at[19]] = 0; clear(m[at[19]+frameHdr+1:]) }, []int{19}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			dir := t.TempDir()
			a := newDisk(t, &gate{}, Config{Dir: dir})
			for _, n := range names(0, 20) {
				a.Put(context.Background(), []byte(n+"\n"), 6)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			a.Close(ctx)
			files := segFiles(t, dir)
			if len(files) != 1 { // the writer keeps appending to the file it reads
				t.Fatalf("%d segment files", len(files))
			}
			m, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			var at []int
			for p := fileHdr; len(at) < 20; p += frameHdr + int(binary.LittleEndian.Uint32(m[p+4:])) {
				at = append(at, p)
			}
			tc.harm(m, at)
			if err := os.WriteFile(files[0], m, 0o600); err != nil {
				t.Fatal(err)
			}
			g := &gate{budget: -1}
			b := newDisk(t, g, Config{Dir: dir})
			if err := b.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			var want []string
			for i, n := range names(0, 20) {
				if !slices.Contains(tc.lost, i) {
					want = append(want, n)
				}
			}
			if s := summary(g.arrived(), want); s != "" {
				t.Error(s)
			}
			if c := b.Counts(); c.Corrupt != uint64(len(tc.lost)) || c.Recovered != uint64(len(want)) {
				t.Errorf("corrupt %d, recovered %d; want %d and %d", c.Corrupt, c.Recovered, len(tc.lost), len(want))
			}
			if c := b.Counts(); c.Corrupt > 0 && c.Written != c.Recovered {
				t.Errorf("%d of %d recovered records written", c.Written, c.Recovered)
			}
		})
	}
}

// TestDiskMemoryFirst: below the high-water mark frames stay in memory,
// above it they go to the directory; at Close, those in memory (in the
// batch in flight or queued) are written there too, and come back in
// their place.
func TestDiskMemoryFirst(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dir := t.TempDir()
	a := newDisk(t, &gate{}, Config{Dir: dir, MemoryFirst: 40}) // "rNN\n" is 4 bytes: 10 in memory
	for i, n := range names(10, 60) {
		a.Put(context.Background(), []byte(n+"\n"), i%3)
		if i == 30 {
			until(t, "the writer to take a batch", func() bool { return a.Counts().WriteErrors > 0 })
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if c := a.Counts(); c.Stored != 50 || c.Dropped.Closed != 0 {
		t.Errorf("stored %d, dropped %d", c.Stored, c.Dropped.Closed)
	}
	g := &gate{budget: -1}
	b := newDisk(t, g, Config{Dir: dir})
	b.Close(context.Background())
	if s := summary(g.arrived(), names(10, 60)); s != "" {
		t.Error(s)
	}
}

// TestDiskLock: one Spool at a time per directory.
func TestDiskLock(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dir := t.TempDir()
	a := newDisk(t, &gate{}, Config{Dir: dir})
	if _, err := New(&gate{}, Config{Dir: dir}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("second spool on %s: %v", dir, err)
	}
	a.Close(context.Background())
	b := newDisk(t, &gate{}, Config{Dir: dir})
	b.Close(context.Background())
}

// TestDiskRecoversManyFiles: a backlog over several files per severity
// comes back in order, whatever order the files were numbered in (a
// spare file is numbered when it is made, not when it is taken).
func TestDiskRecoversManyFiles(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dir := t.TempDir()
	a := newDisk(t, &gate{}, Config{Dir: dir})
	pad := strings.Repeat("x", 1000)
	want := names(0, 12000)
	for i, n := range want {
		if err := a.Put(context.Background(), []byte(n+" "+pad+"\n"), 3+i%2); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	a.Close(ctx)
	if f := segFiles(t, dir); len(f) < 4 {
		t.Fatalf("%d segment files, want several per severity", len(f))
	}
	g := &gate{budget: -1}
	b := newDisk(t, g, Config{Dir: dir})
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := g.arrived()
	for i := range got {
		got[i], _, _ = strings.Cut(got[i], " ")
	}
	if s := summary(got, want); s != "" {
		t.Error(s)
	}
}

// TestDiskFileOrder: a spare numbered before a file made while it was
// being made, and taken after it, still comes back after it.
func TestDiskFileOrder(t *testing.T) {
	dir := t.TempDir()
	var fifos [Severities]fifo
	d, _, _, _, err := openDisk(Config{Dir: dir}, &fifos)
	if err != nil {
		t.Fatal(err)
	}
	d.mu = new(sync.Mutex) // the syncer is not started: no spare but the test's
	p := &segPool{disk: d}
	spare := d.name() // the syncer's, still being made
	for seq := range uint64(10) {
		if err := d.push(p, &fifos[3], seq, []byte("small"), 3); err != nil { // a file made now
			t.Fatal(err)
		}
	}
	f, m, err := makeFile(spare, diskSegSize)
	if err != nil {
		t.Fatal(err)
	}
	d.spare = &segFile{f: f, path: spare, mapped: m}
	big := make([]byte, diskSegSize-fileHdr-frameHdr) // not room in the first file: the spare
	if err := d.push(p, &fifos[3], 10, big, 3); err != nil {
		t.Fatal(err)
	}
	if d.spare != nil || len(fifos[3].segs) != 2 {
		t.Fatalf("the spare was not taken: %d segments", len(fifos[3].segs))
	}
	go d.run() // for close to stop
	d.close()

	var again [Severities]fifo
	d, recovered, _, _, err := openDisk(Config{Dir: dir}, &again)
	if err != nil {
		t.Fatal(err)
	}
	d.mu = new(sync.Mutex)
	go d.run()
	defer d.close()
	var seqs []uint64
	for _, s := range again[3].segs {
		seqs = append(seqs, s.seqs...)
	}
	if recovered != 11 || !slices.IsSorted(seqs) {
		t.Errorf("recovered %d frames in the order %v", recovered, seqs)
	}
}

// TestDiskUnreadableSegment: a segment that cannot be opened stops the
// start with an error that names it, and leaves the directory unlocked.
func TestDiskUnreadableSegment(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dir := t.TempDir()
	bad := filepath.Join(dir, "0000000000000001.seg")
	if err := os.Mkdir(bad, 0o700); err != nil { // a directory: opening it to write fails
		t.Fatal(err)
	}
	if _, err := New(&gate{}, Config{Dir: dir}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("New: %v, want an error naming %s", err, bad)
	}
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	s := newDisk(t, &gate{}, Config{Dir: dir}) // the lock was released
	s.Close(context.Background())
}
