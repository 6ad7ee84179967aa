package spool

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// noLocking says whether this GOOS has no durable queue (osfile_other.go).
func noLocking() bool {
	switch runtime.GOOS {
	case "plan9", "js", "wasip1":
		return true
	}
	return false
}

func newFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "seg"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// checkZeros fails unless f is exactly size bytes, all zero.
func checkZeros(t *testing.T, f *os.File, size int) {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != size {
		t.Fatalf("%s is %d bytes, want %d", f.Name(), len(b), size)
	}
	if i := bytes.IndexFunc(b, func(r rune) bool { return r != 0 }); i >= 0 {
		t.Fatalf("%s: byte %d is not zero", f.Name(), i)
	}
}

func TestAllocFile(t *testing.T) {
	for _, size := range []int{0, 1, 4096, 64 << 10, 64<<10 + 3, 1 << 20} {
		f := newFile(t)
		if err := allocFile(f, size); err != nil {
			t.Fatal(err)
		}
		checkZeros(t, f, size)
		checkAllocated(t, f, size)
	}
}

// A file longer than asked for is cut to the size.
func TestAllocFileShrinks(t *testing.T) {
	f := newFile(t)
	if err := allocFile(f, 100000); err != nil {
		t.Fatal(err)
	}
	if err := allocFile(f, 5000); err != nil {
		t.Fatal(err)
	}
	checkZeros(t, f, 5000)
}

// zeroFill, allocFile's way, overwrites what was there.
func TestZeroFill(t *testing.T) {
	f := newFile(t)
	if _, err := f.WriteAt([]byte("old"), 70000); err != nil {
		t.Fatal(err)
	}
	if err := zeroFill(f, 200003); err != nil {
		t.Fatal(err)
	}
	checkZeros(t, f, 200003)
}

func TestAllocFileError(t *testing.T) {
	f := newFile(t)
	f.Close()
	err := allocFile(f, 4096)
	if err == nil || !strings.Contains(err.Error(), f.Name()) {
		t.Fatalf("allocFile on a closed file: %v, want an error naming %s", err, f.Name())
	}
}

// A store into the mapping is in the file once unmapped, and syncFile
// flushes it without error.
func TestMapFile(t *testing.T) {
	f := newFile(t)
	const size = 3 * 4096
	if err := allocFile(f, size); err != nil {
		t.Fatal(err)
	}
	b, err := mapFile(f, size)
	if errors.Is(err, errNoMap) {
		if err := syncFile(f, nil); err != nil {
			t.Fatal(err)
		}
		t.Skipf("%s cannot map files", runtime.GOOS)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != size {
		t.Fatalf("mapping is %d bytes, want %d", len(b), size)
	}
	copy(b[4090:], "across pages")
	if err := syncFile(f, b); err != nil {
		t.Fatal(err)
	}
	if err := unmapFile(b); err != nil {
		t.Fatal(err)
	}
	if err := unmapFile(nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != size || string(got[4090:4102]) != "across pages" {
		t.Fatalf("file after unmap: %d bytes, %q at 4090", len(got), got[4090:min(len(got), 4102)])
	}
}

func TestLockDirTwice(t *testing.T) {
	dir := t.TempDir()
	release, err := lockDir(dir)
	if noLocking() {
		if err == nil || !strings.Contains(err.Error(), "not supported on "+runtime.GOOS) {
			t.Fatalf("lockDir on %s: %v, want not supported", runtime.GOOS, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	// The same directory by another name is the same directory.
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, again := range []string{dir, dir + string(filepath.Separator) + ".", filepath.Join(dir, "sub") + string(filepath.Separator) + ".."} {
		_, err := lockDir(again)
		if !errors.Is(err, errLocked) || !strings.Contains(err.Error(), again) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
			t.Fatalf("second lockDir(%s): %v, want errLocked naming the directory and pid %d", again, err, os.Getpid())
		}
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	release2, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lockDir after release: %v", err)
	}
	// A second call of the first release must not free the new holder.
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if _, err := lockDir(dir); !errors.Is(err, errLocked) {
		t.Fatalf("lockDir after a repeated release of an old lock: %v, want errLocked", err)
	}
	if err := release2(); err != nil {
		t.Fatal(err)
	}
}

func TestLockDirMissing(t *testing.T) {
	if noLocking() {
		t.Skipf("%s has no directory locking", runtime.GOOS)
	}
	dir := filepath.Join(t.TempDir(), "missing")
	if _, err := lockDir(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("lockDir of a missing directory: %v, want an error naming it", err)
	}
}

// lockHolderEnv names the directory TestLockDirHolder locks when it runs
// as the child of TestLockDirKilled.
const lockHolderEnv = "NETLOG_TEST_LOCK_HOLDER"

// killedStore is what TestLockDirHolder stores into a mapped file before
// it is killed.
const killedStore = "stored before SIGKILL"

// TestLockDirHolder is the child process of TestLockDirKilled, and does
// nothing in a normal run: it locks the directory, stores killedStore
// into a mapping of dir/seg (with no sync), says so on stdout, and waits
// to be killed.
func TestLockDirHolder(t *testing.T) {
	dir := os.Getenv(lockHolderEnv)
	if dir == "" {
		return
	}
	if _, err := lockDir(dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "seg"))
	if err == nil {
		err = allocFile(f, 4096)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := mapFile(f, 4096)
	if err != nil {
		t.Fatal(err)
	}
	copy(b[100:], killedStore)
	os.Stdout.WriteString("locked\n")
	io.Copy(io.Discard, os.Stdin) // until killed (or the parent goes away)
}

// A lock held by a process that is SIGKILLed is free afterwards: no stale
// lock stops the next run. While held, the error names the holder's pid.
// And what the killed process stored into a mapped file, without any
// sync, is in the file.
func TestLockDirKilled(t *testing.T) {
	if runtime.GOOS == "windows" || noLocking() {
		t.Skipf("SIGKILL is unix's; %s is not", runtime.GOOS)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockDirHolder$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // held open: the child waits on it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("child said %q (%v), want locked", line, err)
	}
	pid := "pid " + strconv.Itoa(cmd.Process.Pid)
	if _, err := lockDir(dir); !errors.Is(err, errLocked) || !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("lockDir while the child holds it: %v, want errLocked naming %s and %s", err, dir, pid)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on unix
		t.Fatal(err)
	}
	cmd.Wait() // once reaped, the kernel has dropped its locks
	release, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lockDir after the holder was killed: %v", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	seg, err := os.ReadFile(filepath.Join(dir, "seg"))
	if err != nil {
		t.Fatal(err)
	}
	if got := seg[min(len(seg), 100):min(len(seg), 100+len(killedStore))]; len(seg) != 4096 || string(got) != killedStore {
		t.Fatalf("the killed child's mapped file: %d bytes, %q at 100, want 4096 bytes, %q", len(seg), got, killedStore)
	}
}
