package spool

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// tmpfsEnv names the directory TestAllocFileFullHelper mounts a 1 MiB
// tmpfs on, when it runs as the child of TestAllocFileDiskFull.
const tmpfsEnv = "NETLOG_TEST_TMPFS"

// TestAllocFileFullHelper is the child process of TestAllocFileDiskFull,
// and does nothing in a normal run. In its own user and mount namespaces
// it may mount a tmpfs without being root; the mount goes with it.
func TestAllocFileFullHelper(t *testing.T) {
	dir := os.Getenv(tmpfsEnv)
	if dir == "" {
		return
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		os.Stdout.WriteString("no tmpfs: " + err.Error() + "\n")
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
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAllocFileFullHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), tmpfsEnv+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) {
		t.Skipf("this kernel does not let a user namespace be made (needed for a tmpfs without root): %v", err)
	}
	if _, why, ok := strings.Cut(string(out), "no tmpfs: "); ok {
		t.Skipf("this kernel does not let a user namespace mount a tmpfs: %s", why)
	}
	if err != nil || !strings.Contains(string(out), "disk full: ") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
