package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// recorder keeps what was written to it, and counts the writes.
type recorder struct {
	mu     sync.Mutex
	out    bytes.Buffer
	writes int
	fail   error
	syncs  int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return 0, r.fail
	}
	r.writes++
	return r.out.Write(p)
}

func (r *recorder) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs++
	return nil
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.Len()
}

func appendString(s string) func([]byte) []byte {
	return func(b []byte) []byte { return append(b, s...) }
}

// TestCommitAfterWrite: many goroutines append and commit; whenever a
// Commit returns, the output already holds everything up to its position,
// and the lines are written in far fewer writes than appends.
func TestCommitAfterWrite(t *testing.T) {
	rec := &recorder{}
	w := &Writer{W: rec, Size: 4 << 10}
	const goroutines, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				pos, err := w.Append(appendString(fmt.Sprintf("g%d line %d\n", g, i)))
				if err != nil {
					t.Error(err)
					return
				}
				if i%10 != 9 {
					continue
				}
				if err := w.Commit(context.Background(), pos); err != nil {
					t.Error(err)
					return
				}
				if n := rec.len(); uint64(n) < pos {
					t.Errorf("Commit(%d) returned with %d bytes written", pos, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := bytes.Count(rec.out.Bytes(), []byte("\n"))
	if got != goroutines*lines {
		t.Fatalf("%d lines written, want %d", got, goroutines*lines)
	}
	if rec.writes >= got/2 {
		t.Errorf("%d writes for %d lines: not batched", rec.writes, got)
	}
	t.Logf("%d lines in %d writes", got, rec.writes)
}

// TestErrorStays: after a failed write, nothing commits any more.
func TestErrorStays(t *testing.T) {
	boom := errors.New("disk full")
	rec := &recorder{fail: boom}
	w := &Writer{W: rec}
	pos, err := w.Append(appendString("a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(context.Background(), pos); !errors.Is(err, boom) {
		t.Fatalf("Commit: %v, want %v", err, boom)
	}
	rec.fail = nil
	if _, err := w.Append(appendString("b\n")); !errors.Is(err, boom) {
		t.Fatalf("Append after the failure: %v, want %v", err, boom)
	}
}

// TestSync: with Sync, each batch is synced before it commits; a W that
// cannot sync fails the batch.
func TestSync(t *testing.T) {
	rec := &recorder{}
	w := &Writer{W: rec, Sync: true}
	pos, _ := w.Append(appendString("a\n"))
	if err := w.Commit(context.Background(), pos); err != nil || rec.syncs != 1 {
		t.Fatalf("Commit: %v after %d syncs, want nil after 1", err, rec.syncs)
	}
	var buf bytes.Buffer
	w = &Writer{W: &buf, Sync: true}
	pos, _ = w.Append(appendString("a\n"))
	if err := w.Commit(context.Background(), pos); err == nil {
		t.Fatal("Commit to a bytes.Buffer with Sync succeeded")
	}
}

// TestDelay: a batch nobody commits is written after Delay.
func TestDelay(t *testing.T) {
	rec := &recorder{}
	w := &Writer{W: &signalWriter{rec: rec, wrote: make(chan struct{}, 1)}}
	w.Append(appendString("a\n"))
	<-w.W.(*signalWriter).wrote
	if rec.len() != 2 {
		t.Fatalf("%d bytes written, want 2", rec.len())
	}
}

type signalWriter struct {
	rec   *recorder
	wrote chan struct{}
}

func (s *signalWriter) Write(p []byte) (int, error) {
	n, err := s.rec.Write(p)
	s.wrote <- struct{}{}
	return n, err
}

// TestHugeRecordNotKept: after a batch of one huge record, the Writer
// does not keep its buffer.
func TestHugeRecordNotKept(t *testing.T) {
	w := &Writer{W: &recorder{}, Size: 1 << 10}
	big := string(make([]byte, 1<<20))
	for _, s := range []string{big, "small"} {
		if _, err := w.Append(appendString(s)); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if h := w.Held(); h > 2<<10 {
			t.Errorf("after %d bytes the Writer holds %d", len(s), h)
		}
	}
}

// TestCommitContext: a Commit waiting on a stuck write ends with its context.
func TestCommitContext(t *testing.T) {
	block := make(chan struct{})
	w := &Writer{W: blockingWriter(block)}
	pos, _ := w.Append(appendString("a\n"))
	started := make(chan struct{})
	go func() { close(started); w.Commit(context.Background(), pos) }()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The first Commit may not have begun the write yet: either way this
	// one must return ctx's error or, if it became the writer, block; so
	// let it only wait.
	for {
		w.mu.Lock()
		writing := w.writing
		w.mu.Unlock()
		if writing {
			break
		}
		runtime.Gosched()
	}
	if err := w.Commit(ctx, pos); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit: %v, want context.Canceled", err)
	}
	close(block)
}

type blockingWriter chan struct{}

func (b blockingWriter) Write(p []byte) (int, error) { <-b; return len(p), nil }
