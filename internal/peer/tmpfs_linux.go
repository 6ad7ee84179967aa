package peer

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// A full or read-only filesystem, without root: a test runs itself again
// as a child in its own user and mount namespaces, and the child mounts a
// small tmpfs there, gone when it exits.

// tmpfsEnv names the directory the child mounts its tmpfs on.
const tmpfsEnv = "NETLOG_TEST_TMPFS"

// InTmpfs runs the test named child (one that starts with Tmpfs) of this
// test binary as that child process and returns what it printed. Where
// the kernel does not let it make the namespaces or mount a tmpfs in
// them, the test fails when peers are required (CI runs on kernels that
// do), and skips otherwise.
func InTmpfs(t *testing.T, child string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), tmpfsEnv+"="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	why := ""
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) {
		why = "this kernel does not let a user namespace be made (needed for a tmpfs without root): " + err.Error()
	} else if _, after, ok := strings.Cut(string(out), "no tmpfs: "); ok {
		why = "this kernel does not let a user namespace mount a tmpfs: " + after
	}
	switch {
	case why != "" && Required():
		t.Fatal(why)
	case why != "":
		t.Skip(why)
	case err != nil || !strings.Contains(string(out), "--- PASS: "+child):
		t.Fatalf("child %s: %v\n%s", child, err, out)
	}
	return string(out)
}

// Tmpfs mounts a tmpfs of size (as mount(8) writes it: "5m") for the
// child InTmpfs runs, and returns its directory; "" when the test is not
// run as that child, and then has nothing to do.
func Tmpfs(t *testing.T, size string) string {
	dir := os.Getenv(tmpfsEnv)
	if dir == "" {
		return ""
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		os.Stdout.WriteString("no tmpfs: " + err.Error() + "\n")
		t.SkipNow()
	}
	return dir
}
