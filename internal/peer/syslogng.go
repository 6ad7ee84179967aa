package peer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// SyslogNGTemplate is the syslog-ng template the tests read.
const SyslogNGTemplate = `$PRI|$HOST|$PROGRAM|$PID|$MSGID|$SDATA|$MSG\n`

// SyslogNG is a syslog-ng run by a test with an RFC 5424 syslog() source
// over TCP (octet counting) and TLS, writing SyslogNGTemplate lines.
type SyslogNG struct {
	TCP, TLS string
	cmd      *exec.Cmd
	tail
}

// syslogNGPath finds syslog-ng: on PATH, or unpacked by
// scripts/install-peers.sh; root is "" or the unpacked tree.
func syslogNGPath(t testing.TB) (bin, root string) {
	skipShort(t, "syslog-ng")
	if p, err := exec.LookPath("syslog-ng"); err == nil {
		return p, ""
	}
	cache, _ := os.UserCacheDir()
	root = filepath.Join(cache, "netlog-peers", "syslog-ng")
	if bin = filepath.Join(root, "usr", "sbin", "syslog-ng"); fileExists(bin) {
		return bin, root
	}
	return Path(t, "syslog-ng"), "" // fails or skips, as the mode says
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// StartSyslogNG starts syslog-ng and waits until a probe has passed
// through it. The TLS source proves itself with certFile/keyFile.
func StartSyslogNG(t testing.TB, certFile, keyFile string) *SyslogNG {
	t.Helper()
	bin, root := syslogNGPath(t)
	dir := t.TempDir()
	s := &SyslogNG{TCP: FreePort(t, "tcp"), TLS: FreePort(t, "tcp")}
	s.tail.path = filepath.Join(dir, "out.log")
	port := func(a string) string { return a[strings.LastIndexByte(a, ':')+1:] }
	conf := fmt.Sprintf(`@version: 3.38
options { keep-hostname(yes); stats-freq(0); };
source s_tcp { syslog(ip(127.0.0.1) port(%s) transport("tcp")); };
source s_tls { syslog(ip(127.0.0.1) port(%s) transport("tls")
  tls(key-file(%q) cert-file(%q) peer-verify(optional-untrusted))); };
destination d_file { file(%q template("%s")); };
log { source(s_tcp); source(s_tls); destination(d_file); };
`, port(s.TCP), port(s.TLS), keyFile, certFile, s.tail.path, SyslogNGTemplate)
	confFile := filepath.Join(dir, "syslog-ng.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-F", "-f", confFile, "-R", filepath.Join(dir, "persist"),
		"-p", filepath.Join(dir, "pid"), "-c", filepath.Join(dir, "ctl")}
	s.cmd = exec.Command(bin, args...)
	if root != "" {
		s.cmd.Args = append(s.cmd.Args, "--module-path="+filepath.Join(root, "usr/lib/syslog-ng/3.38"))
		s.cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+strings.Join([]string{
			filepath.Join(root, "usr/lib/x86_64-linux-gnu"), filepath.Join(root, "lib/x86_64-linux-gnu"),
			filepath.Join(root, "usr/lib/syslog-ng")}, ":"))
	}
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("syslog-ng: %v", err)
	}
	t.Cleanup(func() { s.cmd.Process.Signal(syscall.SIGTERM); s.cmd.Wait() })
	if !s.tail.probe(s.TCP) {
		t.Fatalf("syslog-ng did not pass a probe within 20 s; its configuration:\n%s", conf)
	}
	return s
}
