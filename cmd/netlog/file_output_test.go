package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

var fileRecNo = regexp.MustCompile(`: rec(\d+)\.`)

// fileCounts reads every file in dir: how many times each of n records
// is in them, and the records of the file named moved.
func fileCounts(t *testing.T, dir, moved string, n int) (seen []int, inMoved map[int]bool) {
	t.Helper()
	seen, inMoved = make([]int, n), map[int]bool{}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fileRecNo.FindAllSubmatch(b, -1) {
			if i, err := strconv.Atoi(string(m[1])); err == nil && i < n {
				seen[i]++
				if filepath.Base(name) == moved {
					inMoved[i] = true
				}
			}
		}
	}
	return seen, inMoved
}

// TestRelayFileOutput: RELP records into netlog serve --out file://…
// rotating every 64 KiB; halfway, the live file is moved away (as
// logrotate does) and SIGHUP makes serve reopen its path. Every record the
// sender had acknowledged is in exactly one of the files, none after the
// move in the moved file.
func TestRelayFileOutput(t *testing.T) {
	const n = 20_000
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	rs := startRelay(t, "--out", "file://"+path+"?max-size=64KiB")
	h := relpSender(t, rs.relp, n)
	log := slog.New(h)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	send := func(from, to int) {
		for i := from; i < to; i++ {
			log.Info(fmt.Sprintf("rec%d.", i))
		}
		if err := h.Flush(ctx); err != nil { // over RELP: every one acknowledged, so written
			t.Fatal(err)
		}
	}
	send(0, n/2)
	if err := os.Rename(path, filepath.Join(dir, "moved.log")); err != nil {
		t.Fatal(err)
	}
	rs.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "the reopened "+path, func() bool { _, err := os.Stat(path); return err == nil })
	send(n/2, n)
	seen, moved := fileCounts(t, dir, "moved.log", n)
	missing, dups, text := gapSummary(seen)
	rotated, _ := filepath.Glob(path + "-*")
	t.Logf("%d records over %d rotated files, the moved one and the live one: %s", n, len(rotated), text)
	if missing != 0 || dups != 0 {
		t.Errorf("%s", text)
	}
	if len(rotated) == 0 {
		t.Errorf("no rotated file: %d records of about 100 bytes went into one file past max-size=64KiB", n)
	}
	late := 0
	for i := range moved {
		if i >= n/2 {
			late++
		}
	}
	if late > 0 || len(moved) == 0 {
		t.Errorf("the moved file holds %d records, %d of them sent after the SIGHUP's reopen", len(moved), late)
	}
}
