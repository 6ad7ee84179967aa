// Command crashlog is the sender of the sender-crash tests
// (cmd/netlog/crash_test.go): it logs numbered records through a handler
// opened from a URL, normally one with a durable queue (spool=DIR), and
// tells on stdout which ones the handler accepted, so that a test can
// kill it at any point and still know what it may expect to arrive.
//
//	crashlog -url URL -run R -n N [-flush D] [-close D]
//
// Record i (0 ≤ i < N) has the message "crash test record" and the
// attributes run=R and i=i. Once Handle has returned nil for it, i is
// written to stdout, one line per record with one write each and no
// buffer, so that every line written is in the pipe whatever moment a
// SIGKILL comes: a record whose line was written was accepted. (A kill
// between Handle's return and the write leaves one record accepted but
// not told.) A failed Handle ends the program with status 1.
//
// After the N records it flushes for at most -flush (0: not at all),
// closes the handler with a context of at most -close (0: one already
// ended, so the handler gives up on delivering and a durable queue keeps
// what is left for the next start), and writes a last line, "stats "
// and the handler's Stats as JSON. A failed Flush or Close is written
// to stderr and makes the status 2, after the stats line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/netlog-go/netlog"
)

func main() {
	url := flag.String("url", "", "`URL` of the handler, as netlog.Open takes")
	run := flag.Int("run", 0, "`number` of this run, the attribute run of every record")
	n := flag.Int("n", 0, "`records` to log")
	flush := flag.Duration("flush", 0, "after the records, wait at most this long for their delivery (0: do not)")
	closeIn := flag.Duration("close", 0, "close the handler with a context of at most this long (0: one already ended)")
	flag.Parse()
	h, err := netlog.Open(*url, &netlog.Options{
		// The collector is down for most of a test: retry often, so that
		// a run started once it is up finds it at once.
		Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "crashlog: %v\n", err)
		os.Exit(1)
	}
	if err := logRecords(h, *run, *n); err != nil {
		fmt.Fprintf(os.Stderr, "crashlog: %v\n", err)
		os.Exit(1)
	}
	err = finish(h, *flush, *closeIn)
	b, _ := json.Marshal(h.Stats())
	os.Stdout.Write(append(append([]byte("stats "), b...), '\n'))
	if err != nil {
		fmt.Fprintf(os.Stderr, "crashlog: %v\n", err)
		os.Exit(2)
	}
}

// logRecords logs records 0 to n-1 of run and writes the index of each
// one h accepted to stdout, unbuffered.
func logRecords(h netlog.Handler, run, n int) error {
	ctx := context.Background()
	line := make([]byte, 0, 16)
	for i := range n {
		r := slog.NewRecord(time.Now(), slog.LevelInfo, "crash test record", 0)
		r.AddAttrs(slog.Int("run", run), slog.Int("i", i))
		if err := h.Handle(ctx, r); err != nil {
			return fmt.Errorf("record %d of run %d: %w", i, run, err)
		}
		line = append(strconv.AppendInt(line[:0], int64(i), 10), '\n')
		if _, err := os.Stdout.Write(line); err != nil {
			return fmt.Errorf("telling record %d: %w", i, err)
		}
	}
	return nil
}

// finish flushes h for at most flush, if flush > 0, and closes it with a
// context of at most closeIn (one already ended if 0).
func finish(h netlog.Handler, flush, closeIn time.Duration) error {
	if flush > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), flush)
		err := h.Flush(ctx)
		cancel()
		if err != nil {
			h.Close(ctx)
			return fmt.Errorf("flush: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeIn)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
