package spool

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/netlog-go/netlog/internal/peer"
)

// TestAllocFileFullHelper is the child process of TestAllocFileDiskFull,
// and does nothing in a normal run.
func TestAllocFileFullHelper(t *testing.T) {
	dir := peer.Tmpfs(t, "1m")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, "seg"))
	if err != nil {
		t.Fatal(err)
	}
	err = allocFile(f, 4<<20)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), f.Name()) {
		t.Fatalf("allocFile of 4 MiB on a 1 MiB tmpfs: %v, want ENOSPC naming %s", err, f.Name())
	}
	os.Stdout.WriteString("disk full: " + err.Error() + "\n")
}

// On a full disk, allocFile returns the error (ENOSPC, naming the file):
// it never leaves a file whose mapping would fault on first store.
func TestAllocFileDiskFull(t *testing.T) {
	out := peer.InTmpfs(t, "TestAllocFileFullHelper")
	if !strings.Contains(out, "disk full: ") {
		t.Fatalf("child:\n%s", out)
	}
	t.Logf("%s", out)
}
