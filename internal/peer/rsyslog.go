package peer

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
	Dir                string
	UDP, TCP, TLS      string // host:port of each input
	Unix               string // imuxsock socket path
	Out                string // the file the template writes
	conf, pidFile, bin string
	cmd                *exec.Cmd
	lines              int // lines of Out already returned
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
// itself with certFile/keyFile) and Unix socket inputs, and waits until a
// probe message has passed through it.
func StartRsyslog(t testing.TB, caFile, certFile, keyFile string) *Rsyslog {
	t.Helper()
	bin := Path(t, "rsyslogd")
	r := &Rsyslog{Dir: t.TempDir(), bin: bin, UDP: FreePort(t, "udp"), TCP: FreePort(t, "tcp")}
	r.Unix = filepath.Join(r.Dir, "log.sock")
	r.Out = filepath.Join(r.Dir, "out.log")
	r.conf = filepath.Join(r.Dir, "rsyslog.conf")
	r.pidFile = filepath.Join(r.Dir, "rsyslog.pid")
	port := func(a string) string { _, p, _ := net.SplitHostPort(a); return p }
	var conf strings.Builder
	fmt.Fprintf(&conf, "global(workDirectory=%q maxMessageSize=\"64k\"", r.Dir)
	if certFile != "" {
		fmt.Fprintf(&conf, " defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q", caFile, certFile, keyFile)
	}
	conf.WriteString(")\n")
	fmt.Fprintf(&conf, "module(load=\"imuxsock\" SysSock.Use=\"off\")\ninput(type=\"imuxsock\" Socket=%q)\n", r.Unix)
	fmt.Fprintf(&conf, "module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=%q)\n", port(r.UDP))
	fmt.Fprintf(&conf, "module(load=\"imtcp\" maxSessions=\"100\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=%q)\n", port(r.TCP))
	if certFile != "" {
		r.TLS = FreePort(t, "tcp")
		fmt.Fprintf(&conf, "input(type=\"imtcp\" address=\"127.0.0.1\" port=%q streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n", port(r.TLS))
	}
	fmt.Fprintf(&conf, "template(name=\"fields\" type=\"string\" string=\"%s\")\n", Template) // Template has no quote
	fmt.Fprintf(&conf, "action(type=\"omfile\" file=%q template=\"fields\" flushInterval=\"0\" asyncWriting=\"off\")\n", r.Out)
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
	probe := fmt.Sprintf("probe-%d", time.Now().UnixNano())
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", r.TCP); err == nil {
			fmt.Fprintf(c, "<14>1 - - probe - - - %s\n", probe)
			c.Close()
			for wait := time.Now().Add(2 * time.Second); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
				if all := readLines(r.Out); len(all) > 0 && strings.HasSuffix(all[len(all)-1], probe) {
					r.lines = len(all)
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond) // polling: rsyslogd has no readiness signal
	}
	conf, _ := os.ReadFile(r.conf)
	t.Fatalf("rsyslogd did not pass a probe within 20 s; its configuration:\n%s", conf)
}

// Stop ends rsyslogd with SIGTERM and waits for it.
func (r *Rsyslog) Stop(t testing.TB) {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.cmd.Wait()
	r.cmd = nil
}

// Lines waits until the output has n lines more than it had at the last
// call (0: any), for at most wait, and returns the new lines.
func (r *Rsyslog) Lines(t testing.TB, n int, wait time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		all := readLines(r.Out)
		if len(all)-r.lines >= max(n, 1) || time.Now().After(deadline) {
			got := all[min(r.lines, len(all)):]
			r.lines = len(all)
			return got
		}
		time.Sleep(20 * time.Millisecond) // polling: omfile gives no signal either
	}
}

func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
