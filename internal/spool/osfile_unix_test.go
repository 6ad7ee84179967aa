//go:build unix

package spool

import (
	"os"
	"syscall"
	"testing"
)

// checkAllocated fails unless f's blocks on disk hold at least size
// bytes: allocFile reserved them, rather than leaving a sparse file.
func checkAllocated(t *testing.T, f *os.File, size int) {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Sys().(*syscall.Stat_t).Blocks * 512; got < int64(size) {
		t.Fatalf("%s has %d bytes allocated on disk, want at least %d", f.Name(), got, size)
	}
}
