// Package peer finds the real programs that interop tests talk to
// (python3 first; rsyslog, syslog-ng and others later). Under the README's
// test command, which sets NETLOG_REQUIRE_PEERS=1, or under CI=true, a
// missing peer fails the test; under a plain "go test" it skips it, and
// under -short every interop test skips.
package peer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// daemon is a peer's process, which its test starts, stops and may start
// again.
type daemon struct{ cmd *exec.Cmd }

// end sends the process sig, if it runs, and waits for it.
func (d *daemon) end(sig os.Signal) {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(sig)
	d.cmd.Wait()
	d.cmd = nil
}

// Required reports whether missing peers must fail tests.
func Required() bool {
	return os.Getenv("NETLOG_REQUIRE_PEERS") == "1" || os.Getenv("CI") == "true"
}

// Path returns the path of the program name, or ends the test: it fails
// when peers are required, skips otherwise.
func Path(t testing.TB, name string) string {
	t.Helper()
	skipShort(t, name)
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} { // daemons, when PATH has no sbin
		if p, err2 := exec.LookPath(filepath.Join(dir, name)); err2 == nil {
			return p
		}
	}
	Unavailable(t, fmt.Sprintf("interop peer %q is missing (%v); the README's test command installs it", name, err))
	return ""
}

// skipShort skips an interop test under -short: the test command's
// emulated runs (32-bit, big-endian) run the unit tests alone.
func skipShort(t testing.TB, name string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("interop peer %q: not started under -short", name)
	}
}

// Unavailable ends a test that cannot get what it needs, saying why: it
// fails when peers are required, skips otherwise.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatal(why)
	}
	t.Skip(why)
}
