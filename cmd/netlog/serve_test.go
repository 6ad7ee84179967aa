package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/tlsclient"
)

// serving is a netlog serve running in-process.
type serving struct {
	addrs  map[string]string // network → address it listens on
	stdout *bufio.Scanner
	stderr chan string // lines after the "listening" ones
	exit   chan int
}

var listening = regexp.MustCompile(`^netlog: listening on (\S+) (\S+)$`)

// startServe runs netlog serve with args and waits until n listeners are up.
func startServe(t *testing.T, ctx context.Context, n int, args ...string) *serving {
	t.Helper()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	s := &serving{addrs: map[string]string{}, stdout: bufio.NewScanner(outR), stderr: make(chan string, 100), exit: make(chan int, 1)}
	go func() {
		s.exit <- run(ctx, append([]string{"serve"}, args...), nil, outW, errW)
		outW.Close()
		errW.Close()
	}()
	lines := bufio.NewScanner(errR)
	for lines.Scan() {
		m := listening.FindStringSubmatch(lines.Text())
		if m == nil {
			s.stderr <- lines.Text()
			break
		}
		s.addrs[m[1]] = m[2]
		if len(s.addrs) == n {
			break
		}
	}
	go func() {
		for lines.Scan() {
			s.stderr <- lines.Text()
		}
		close(s.stderr)
	}()
	return s
}

func (s *serving) line(t *testing.T) string {
	t.Helper()
	if !s.stdout.Scan() {
		t.Fatalf("netlog serve printed no more records: %v", s.stdout.Err())
	}
	return s.stdout.Text()
}

func (s *serving) errLine(t *testing.T) string {
	t.Helper()
	select {
	case l := <-s.stderr:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("netlog serve reported nothing")
		return ""
	}
}

// TestServePython runs netlog serve --format json and sends to it with
// Python's SocketHandler and DatagramHandler.
func TestServePython(t *testing.T) {
	py := peer.Path(t, "python3")
	ctx, cancel := context.WithCancel(context.Background())
	s := startServe(t, ctx, 2, "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--format", "json")
	for _, network := range []string{"tcp", "udp"} {
		if err := exec.Command(py, "../../receive/testdata/py_sender.py", network, s.addrs[network]).Run(); err != nil {
			t.Fatalf("py_sender.py %s: %v", network, err)
		}
		var levels []string
		for i := range 8 {
			var m map[string]any
			if err := json.Unmarshal([]byte(s.line(t)), &m); err != nil {
				t.Fatal(err)
			}
			if m["name"] != "py.sender" || i < 6 && m["user"] != "ü" || m["process"] == nil || m["created"] == nil {
				t.Errorf("%s: %v", network, m)
			}
			levels = append(levels, m["levelname"].(string))
		}
		if got := strings.Join(levels, ","); got != "DEBUG,INFO,WARNING,ERROR,CRITICAL,Level 25,ERROR,INFO" {
			t.Errorf("%s: levels %s", network, got)
		}
	}
	cancel()
	if code := <-s.exit; code != 0 {
		t.Fatalf("exit status %d", code)
	}
	if l := s.errLine(t); l != "netlog: stopped: 16 records, 0 frames refused" {
		t.Errorf("summary %q", l)
	}
}

// TestStopLine: the summary names the datagrams the kernel dropped when
// there were any, so that a UDP loss is not reported as none.
func TestStopLine(t *testing.T) {
	st := receive.Stats{Records: 998974, Refused: map[receive.Reason]uint64{receive.ReasonMalformed: 2}}
	if got, want := stopLine(st), "netlog: stopped: 998974 records, 2 frames refused"; got != want {
		t.Errorf("without drops: %q, want %q", got, want)
	}
	st.KernelDrops = 1027
	if got, want := stopLine(st), "netlog: stopped: 998974 records, 2 frames refused, 1027 datagrams dropped by the kernel (receive buffer full)"; got != want {
		t.Errorf("with drops: %q, want %q", got, want)
	}
}

// TestServeReportsRefusals: a bad frame is reported on stderr with the
// peer's address, and the server goes on printing good records.
func TestServeReportsRefusals(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 1, "--tcp", "127.0.0.1:0", "--udp", "", "--max-frame", "1000")
	bad, err := net.Dial("tcp", s.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	bad.Write([]byte{0, 0, 0x10, 0}) // 4096 > --max-frame
	l := s.errLine(t)
	if !strings.Contains(l, "oversized") || !strings.Contains(l, bad.LocalAddr().String()) || !strings.Contains(l, "4096") {
		t.Errorf("report %q does not say what, from whom and how large", l)
	}
	h, _ := netlog.NewSocketHandler("tcp", s.addrs["tcp"], &netlog.Options{Name: "good"})
	defer h.Close(context.Background())
	slog.New(h).Info("still here")
	if l := s.line(t); !strings.HasSuffix(l, "INFO good: still here") {
		t.Errorf("printed %q", l)
	}
}

func TestServeUsageErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--format", "xml"}, 2, `--format "xml"`},
		{[]string{"serve", "--max-frame", "0"}, 2, "--max-frame 0"},
		{[]string{"serve", "--tcp", "", "--udp", ""}, 2, "every listener is disabled"},
		{[]string{"serve", "--tcp", busy.Addr().String(), "--udp", ""}, 1, "address already in use"},
		{[]string{"serve", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"serve", "--syslog-tls", "127.0.0.1:0"}, 2, "need --tls-cert and --tls-key"},
		{[]string{"serve", "--tls", "127.0.0.1:0", "--tls-cert", "c.pem"}, 2, "need --tls-cert and --tls-key"},
		{[]string{"serve", "--tls-cert", "c.pem"}, 2, "go with --tls, --syslog-tls or --relp-tls"},
		{[]string{"serve", "--syslog-tls", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.pem"}, 1, "--tls-cert/--tls-key"},
		{[]string{"launch"}, 2, `unknown command "launch"`},
		{nil, 2, "usage: netlog serve"},
	} {
		var out, errs strings.Builder
		code := run(context.Background(), c.args, nil, &out, &errs)
		if code != c.code || !strings.Contains(errs.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs.String(), c.code, c.want)
		}
	}
}

// TestServeSIGTERM builds the command, stops it with SIGTERM right after
// the sender's last write, and checks that every record was printed.
func TestServeSIGTERM(t *testing.T) {
	bin := buildNetlog(t)
	sock := filepath.Join(t.TempDir(), "serve.sock")
	cmd := exec.Command(bin, "serve", "--tcp", "", "--udp", "", "--unix", sock)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	printed := make(chan []byte, 1) // read as a terminal would, so the pipe never fills
	go func() { out, _ := io.ReadAll(stdout); printed <- out }()
	errLines := bufio.NewScanner(stderr)
	if !errLines.Scan() || !strings.Contains(errLines.Text(), "listening on unix "+sock) {
		t.Fatalf("stderr: %q", errLines.Text())
	}
	h, err := netlog.NewSocketHandler("unix", sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	log := slog.New(h)
	for i := range n {
		log.Info("record", "i", i)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	out := <-printed
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if got := strings.Count(string(out), "\n"); got != n || !strings.Contains(string(out), " i=1999\n") {
		t.Fatalf("printed %d of %d records", got, n)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket file left behind: %v", err)
	}
}

// TestServeSyslogPeers sends with logger(1) and Python's SysLogHandler to
// netlog serve's syslog listeners and checks every field of the JSON.
func TestServeSyslogPeers(t *testing.T) {
	logger, py := peer.Path(t, "logger"), peer.Path(t, "python3")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sock := filepath.Join(t.TempDir(), "log.sock")
	s := startServe(t, ctx, 3, "--tcp", "", "--udp", "", "--format", "json",
		"--syslog-udp", "127.0.0.1:0", "--syslog-tcp", "127.0.0.1:0", "--syslog-unix", sock)
	hostPort := func(label string) []string {
		h, p, _ := net.SplitHostPort(s.addrs[label])
		return []string{"-n", h, "-P", p}
	}
	udp, tcp := hostPort("syslog+udp"), hostPort("syslog+tcp")
	for _, c := range []struct {
		name string
		cmd  []string
		want map[string]any
	}{
		{"logger rfc5424 udp with structured data", append([]string{logger, "--rfc5424", "-d", "--msgid", "ID47",
			"--sd-id", "ex@32473", "--sd-param", `k="v ü"`, "-t", "lg-udp", "-p", "local3.err"}, append(udp, "udp 5424 ü")...),
			map[string]any{"syslog_format": "rfc5424", "msgid": "ID47", "appname": "lg-udp", "name": "lg-udp",
				"facility": "local3", "severity": "err", "levelname": "ERROR", "msg": "udp 5424 ü"}},
		{"logger rfc5424 tcp octet-counting", append([]string{logger, "--rfc5424", "-T", "--octet-count", "-t", "lg-tcp", "--id=4321"}, append(tcp, "tcp octet")...),
			map[string]any{"syslog_format": "rfc5424", "appname": "lg-tcp", "procid": "4321", "process": float64(4321),
				"facility": "user", "severity": "notice", "msg": "tcp octet"}},
		{"logger rfc3164 tcp", append([]string{logger, "--rfc3164", "-T", "-t", "lg-3164", "-p", "daemon.warning"}, append(tcp, "tcp lf 3164")...),
			map[string]any{"syslog_format": "rfc3164", "appname": "lg-3164", "facility": "daemon", "severity": "warning", "msg": "tcp lf 3164"}},
		{"logger rfc3164 udp", append([]string{logger, "--rfc3164", "-d", "-t", "lg-u3164"}, append(udp, "udp 3164")...),
			map[string]any{"syslog_format": "rfc3164", "appname": "lg-u3164", "msg": "udp 3164"}},
		{"python SysLogHandler udp", []string{py, "-c", `import logging, logging.handlers as h, sys
x = h.SysLogHandler(address=(sys.argv[1], int(sys.argv[2])), facility=h.SysLogHandler.LOG_LOCAL1)
l = logging.getLogger("p"); l.addHandler(x); l.warning("python udp ü")`, udp[1], udp[3]},
			map[string]any{"syslog_format": "bare", "facility": "local1", "severity": "warning", "levelno": float64(30), "msg": "python udp ü"}},
		{"python SysLogHandler unix datagram", []string{py, "-c", `import logging, logging.handlers as h, sys
x = h.SysLogHandler(address=sys.argv[1]); x.ident = "pyapp: "
l = logging.getLogger("p"); l.addHandler(x); l.error("python unix")`, sock},
			map[string]any{"syslog_format": "bare", "facility": "user", "severity": "err", "appname": "pyapp", "msg": "python unix"}},
	} {
		if out, err := exec.Command(c.cmd[0], c.cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s.line(t)), &m); err != nil {
			t.Fatal(err)
		}
		for k, w := range c.want {
			if m[k] != w {
				t.Errorf("%s: %s = %#v, want %#v", c.name, k, m[k], w)
			}
		}
		for _, k := range []string{"facility", "severity", "hostname", "appname", "procid", "msgid", "structured_data", "created", "levelno"} {
			if _, ok := m[k]; !ok && (k != "created" || c.want["syslog_format"] != "bare") {
				t.Errorf("%s: key %s missing from %v", c.name, k, m)
			}
		}
		if c.want["syslog_format"] == "rfc5424" && c.want["msgid"] == "ID47" {
			sd, _ := m["structured_data"].(map[string]any)
			if ex, _ := sd["ex@32473"].(map[string]any); ex["k"] != "v ü" {
				t.Errorf("%s: structured_data %v", c.name, m["structured_data"])
			}
		}
	}
}

var built struct {
	once sync.Once
	dir  string
	err  error
}

// buildNetlog builds the command once per test run (without the race
// detector, so that a receiver under load runs at its real speed) and
// returns the binary's path.
func buildNetlog(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "netlog-bin"); built.err != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", built.dir, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return filepath.Join(built.dir, "netlog")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// TestServeTLS: netlog's socket handler over verified, mutually
// authenticated TLS into netlog serve --tls; a client without a
// certificate is refused and reported, and a handler that cannot verify
// the server sends nothing.
func TestServeTLS(t *testing.T) {
	certs := testcert.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 1, "--tcp", "", "--udp", "", "--tls", "127.0.0.1:0",
		"--tls-cert", certs.CertFile, "--tls-key", certs.KeyFile, "--tls-client-ca", certs.CAFile)
	addr := s.addrs["tls"]
	client, err := tlsclient.New(&tls.Config{Certificates: []tls.Certificate{certs.Client}}, "")
	if err != nil {
		t.Fatal(err)
	}
	h, err := netlog.Open("tls://"+addr+"?name=secure&ca="+url.QueryEscape(certs.CAFile),
		&netlog.Options{TLS: client, DialTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	slog.New(h).Warn("over tls", "k", 1)
	if l := s.line(t); !strings.HasSuffix(l, " WARNING secure: over tls k=1") {
		t.Errorf("printed %q", l)
	}
	h.Close(context.Background())

	// A handshake on a busy machine can outlast the default 1 s dial timeout.
	anonTLS, err := tlsclient.New(nil, certs.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	anon, err := netlog.NewSocketHandler("tls", addr, &netlog.Options{TLS: anonTLS, DialTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close(context.Background())
	slog.New(anon).Info("no certificate")
	if l := s.errLine(t); !strings.Contains(l, "refused handshake frame from 127.0.0.1:") {
		t.Errorf("stderr %q", l)
	}

	unverified, err := netlog.NewSocketHandler("tls", addr, &netlog.Options{DialTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer unverified.Close(context.Background())
	if err := unverified.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "x", 0)); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("a server the handler cannot verify: %v", err)
	}
}

// counted is a netlog serve binary whose printed records are counted.
type counted struct {
	cmd *exec.Cmd
	out chan []int // the record numbers it printed, once its output has ended
}

// recordNo finds the number of a record logged as "recN.".
var recordNo = regexp.MustCompile(`rec(\d+)\.`)

// startCounted runs bin serve with args and returns it with the address
// of its listener. It collects the record numbers each printed line holds;
// across runs, printed counts them, and each time another quarter of n has
// been printed, quarter receives. A line on stderr other than the closing
// summary fails the test.
func startCounted(t *testing.T, bin string, n int, printed *atomic.Int64, quarter chan<- struct{}, args ...string) (counted, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	errs := bufio.NewScanner(stderr)
	if !errs.Scan() || !listening.MatchString(errs.Text()) {
		t.Fatalf("netlog serve: %q", errs.Text())
	}
	addr := listening.FindStringSubmatch(errs.Text())[2]
	c := counted{cmd, make(chan []int, 1)}
	go func() {
		var got []int
		lines := bufio.NewReader(stdout)
		for {
			line, err := lines.ReadString('\n')
			if err != nil {
				// netlog serve writes its output in batches: a SIGKILL
				// may cut its last write, and with it a record never
				// acknowledged (so sent again). Nothing else may be cut.
				if line != "" {
					t.Logf("last line cut by the end of the process: %q", line)
				}
				break
			}
			m := recordNo.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("unexpected line %q", line)
				continue
			}
			i, _ := strconv.Atoi(m[1])
			got = append(got, i)
			if p := printed.Add(1); p%int64(n/4) == 0 && p < int64(n) {
				quarter <- struct{}{}
			}
		}
		for errs.Scan() {
			if !strings.HasPrefix(errs.Text(), "netlog: stopped") {
				t.Errorf("netlog serve: %s", errs.Text())
			}
		}
		c.out <- got
	}()
	return c, addr
}
