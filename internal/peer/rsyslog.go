package peer

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Template is the rsyslog template the tests read: the parsed fields of
// each message, separated by '|', one message a line.
const Template = `%pri%|%timestamp:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n`

// Rsyslog is an rsyslogd run by a test, in the foreground, with its own
// configuration, on loopback ports and a temporary Unix socket.
type Rsyslog struct {
	Dir                 string
	UDP, TCP, TLS, RELP string // host:port of each input
	Unix                string // imuxsock socket path
	Out                 string // the file the template writes
	conf, pidFile, bin  string
	daemon
	tail
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB, network string) string {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().String()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// StartRsyslog starts rsyslogd with UDP, TCP (octet counting and LF),
// TLS (if certFile is not empty: anonymous clients, the server proving
// itself with certFile/keyFile), RELP and Unix socket inputs, and waits
// until a probe message has passed through it. Its main queue is direct:
// an input hands each message to the file action before it returns, so
// imrelp acknowledges only what is in the file. extra is appended to the
// configuration (more actions, say).
func StartRsyslog(t testing.TB, caFile, certFile, keyFile string, extra ...string) *Rsyslog {
	t.Helper()
	bin := Path(t, "rsyslogd")
	r := &Rsyslog{Dir: t.TempDir(), bin: bin, UDP: FreePort(t, "udp"), TCP: FreePort(t, "tcp"), RELP: FreePort(t, "tcp")}
	r.Unix = filepath.Join(r.Dir, "log.sock")
	r.Out = filepath.Join(r.Dir, "out.log")
	r.tail.path = r.Out
	r.conf = filepath.Join(r.Dir, "rsyslog.conf")
	r.pidFile = filepath.Join(r.Dir, "rsyslog.pid")
	port := func(a string) string { _, p, _ := net.SplitHostPort(a); return p }
	var conf strings.Builder
	fmt.Fprintf(&conf, "global(workDirectory=%q maxMessageSize=\"64k\"", r.Dir)
	if certFile != "" {
		fmt.Fprintf(&conf, " defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q", caFile, certFile, keyFile)
	}
	conf.WriteString(")\nmain_queue(queue.type=\"Direct\")\n")
	fmt.Fprintf(&conf, "module(load=\"imrelp\")\ninput(type=\"imrelp\" address=\"127.0.0.1\" port=%q)\n", port(r.RELP))
	fmt.Fprintf(&conf, "module(load=\"imuxsock\" SysSock.Use=\"off\")\ninput(type=\"imuxsock\" Socket=%q)\n", r.Unix)
	fmt.Fprintf(&conf, "module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=%q)\n", port(r.UDP))
	fmt.Fprintf(&conf, "module(load=\"imtcp\" maxSessions=\"100\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=%q)\n", port(r.TCP))
	if certFile != "" {
		r.TLS = FreePort(t, "tcp")
		fmt.Fprintf(&conf, "input(type=\"imtcp\" address=\"127.0.0.1\" port=%q streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n", port(r.TLS))
	}
	fmt.Fprintf(&conf, "template(name=\"fields\" type=\"string\" string=\"%s\")\n", Template) // Template has no quote
	fmt.Fprintf(&conf, "action(type=\"omfile\" file=%q template=\"fields\" flushInterval=\"0\" asyncWriting=\"off\")\n", r.Out)
	for _, e := range extra {
		conf.WriteString(e + "\n")
	}
	if err := os.WriteFile(r.conf, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(t) })
	r.Start(t)
	return r
}

// Start runs rsyslogd and waits until a probe sent over TCP comes out.
func (r *Rsyslog) Start(t testing.TB) {
	t.Helper()
	r.cmd = exec.Command(r.bin, "-n", "-f", r.conf, "-i", r.pidFile)
	r.cmd.Stdout, r.cmd.Stderr = os.Stderr, os.Stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("rsyslogd: %v", err)
	}
	if !r.tail.probe(r.TCP) {
		conf, _ := os.ReadFile(r.conf)
		t.Fatalf("rsyslogd did not pass a probe within 20 s; its configuration:\n%s", conf)
	}
}

// Stop ends rsyslogd with SIGTERM and waits for it.
func (r *Rsyslog) Stop(t testing.TB) { r.end(syscall.SIGTERM) }

// Kill ends rsyslogd with SIGKILL, as a crash would, and waits for it.
func (r *Rsyslog) Kill(t testing.TB) { r.end(os.Kill) }

// All returns every whole line the daemon has written so far.
func (f *tail) All() []string { return readLines(f.path) }

// tail reads the file a daemon writes its messages to.
type tail struct {
	path  string
	lines int // lines already returned
}

// probe sends an octet-counted probe message over TCP to addr until it
// appears in the file, for at most 20 s: neither daemon has a readiness
// signal, so this polls.
func (f *tail) probe(addr string) bool {
	probe := fmt.Sprintf("probe-%d", time.Now().UnixNano())
	msg := "<14>1 - - probe - - - " + probe
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			continue
		}
		fmt.Fprintf(c, "%d %s", len(msg), msg)
		c.Close()
		for wait := time.Now().Add(2 * time.Second); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
			all := readLines(f.path)
			if slices.ContainsFunc(all, func(l string) bool { return strings.HasSuffix(l, probe) }) {
				f.lines = len(all)
				return true
			}
		}
	}
	return false
}

// Lines waits until the file has n lines more than at the last call (0:
// any), for at most wait, and returns the new lines.
func (f *tail) Lines(t testing.TB, n int, wait time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		all := readLines(f.path)
		if len(all)-f.lines >= max(n, 1) || time.Now().After(deadline) {
			got := all[min(f.lines, len(all)):]
			f.lines = len(all)
			return got
		}
		time.Sleep(20 * time.Millisecond) // polling: a file gives no signal
	}
}

// readLines returns the file's complete lines: a daemon may be in the
// middle of writing the last one.
func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	return lines[:len(lines)-1] // after the last LF: nothing, or a line not yet whole
}
