package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
)

// serving is a netlog serve running in-process.
type serving struct {
	addrs  map[string]string // network → address it listens on
	stdout *bufio.Scanner
	stderr chan string // lines after the "listening" ones
	exit   chan int
}

var listening = regexp.MustCompile(`^netlog: listening on (\S+) (\S+)$`)

func startServe(t *testing.T, ctx context.Context, args ...string) *serving {
	t.Helper()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	s := &serving{addrs: map[string]string{}, stdout: bufio.NewScanner(outR), stderr: make(chan string, 100), exit: make(chan int, 1)}
	go func() {
		s.exit <- run(ctx, append([]string{"serve"}, args...), outW, errW)
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
		if len(s.addrs) == strings.Count(strings.Join(args, " "), "127.0.0.1:0") {
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
	s := startServe(t, ctx, "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--format", "json")
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

// TestServeReportsRefusals: a bad frame is reported on stderr with the
// peer's address, and the server goes on printing good records.
func TestServeReportsRefusals(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, "--tcp", "127.0.0.1:0", "--udp", "", "--max-frame", "1000")
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
	defer h.Close()
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
		{[]string{"launch"}, 2, `unknown command "launch"`},
		{nil, 2, "usage: netlog serve"},
	} {
		var out, errs strings.Builder
		code := run(context.Background(), c.args, &out, &errs)
		if code != c.code || !strings.Contains(errs.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs.String(), c.code, c.want)
		}
	}
}

// TestServeSIGTERM builds the command, stops it with SIGTERM right after
// the sender's last write, and checks that every record was printed.
func TestServeSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "netlog")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
