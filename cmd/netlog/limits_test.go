package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
)

// binServe is the netlog serve binary, running.
type binServe struct {
	cmd    *exec.Cmd
	pid    int
	addrs  map[string]string // listener label → address
	stderr chan string       // the lines after the "listening" ones
	stdout io.Reader
}

// startBin runs the netlog serve binary (through wrapper, if any, which
// must exec it) and waits until n listeners are up.
func startBin(t *testing.T, n int, wrapper []string, args ...string) *binServe {
	t.Helper()
	argv := append(append(wrapper, buildNetlog(t), "serve"), args...)
	return startCmd(t, n, exec.Command(argv[0], argv[1:]...))
}

// startCmd starts cmd, the netlog serve binary, and waits until n
// listeners are up.
func startCmd(t *testing.T, n int, cmd *exec.Cmd) *binServe {
	t.Helper()
	b := &binServe{cmd: cmd, addrs: map[string]string{}, stderr: make(chan string, 1<<16)}
	b.stdout, _ = b.cmd.StdoutPipe()
	stderr, _ := b.cmd.StderrPipe()
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.pid = b.cmd.Process.Pid
	t.Cleanup(func() { b.cmd.Process.Kill(); b.cmd.Wait() })
	lines := bufio.NewScanner(stderr)
	for len(b.addrs) < n && lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			b.addrs[m[1]] = m[2]
		}
	}
	if len(b.addrs) < n {
		t.Fatalf("netlog serve started %d of %d listeners", len(b.addrs), n)
	}
	go func() {
		for lines.Scan() {
			select {
			case b.stderr <- lines.Text():
			default: // the test reads what it needs; the rest is dropped
			}
		}
		close(b.stderr)
	}()
	return b
}

// awaitErr waits for a line on stderr that contains want.
func (b *binServe) awaitErr(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-b.stderr:
			if !ok {
				t.Fatalf("netlog serve exited before reporting %q", want)
			}
			if strings.Contains(l, want) {
				return l
			}
		case <-timeout:
			t.Fatalf("netlog serve did not report %q within a minute", want)
		}
	}
}

// countLines counts the records printed, closing done when n are.
func countLines(r io.Reader, n int, done chan<- struct{}) {
	lines := bufio.NewReaderSize(r, 1<<20)
	for i := 0; ; {
		if _, err := lines.ReadSlice('\n'); err == bufio.ErrBufferFull {
			continue
		} else if err != nil {
			return
		}
		if i++; i == n {
			close(done)
		}
	}
}

func openFDs(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// TestServeOutOfDescriptors: netlog serve under a limit of 1,024 open
// files, with 1,100 idle connections: its accepts fail (EMFILE), are
// reported and counted, and retried; the server stays up, and once the
// connections close a good client's records all arrive.
func TestServeOutOfDescriptors(t *testing.T) {
	prlimit := peer.Path(t, "prlimit")
	b := startBin(t, 2, []string{prlimit, "--nofile=1024"}, "--udp", "", "--tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
		"--max-conns-per-peer", "2048", "--handshake-timeout", "5m", "--idle-timeout", "5m")
	const idle = 1100
	conns := make([]net.Conn, 0, idle)
	for i := range idle {
		c, err := net.Dial("tcp", b.addrs["tcp"])
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	t.Logf("reported: %s", b.awaitErr(t, "too many open files"))
	if err := b.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("netlog serve is gone: %v", err)
	}
	for _, c := range conns {
		c.Close()
	}

	const good = 1000
	printed := make(chan struct{})
	go countLines(b.stdout, good, printed)
	h, err := netlog.NewSocketHandler("tcp", b.addrs["tcp"], nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	for i := range good {
		log.Info("good", "i", i)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-printed:
	case <-time.After(2 * time.Minute):
		t.Fatal("the good records were not all printed within 2 minutes")
	}
	m := scrape(t, "http://"+b.addrs["metrics"]+"/metrics")
	if n := m[`netlog_receive_accept_errors_total{listener="tcp `+b.addrs["tcp"]+`"}`]; n < 1 {
		t.Errorf("accept errors counted: %v", n)
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
}

// TestMetricsConnectionCap: connections to --metrics beyond its cap are
// closed as soon as accepted, so they hold no descriptors; those within
// it are closed after the timeout without a request; the record
// listeners serve meanwhile.
func TestMetricsConnectionCap(t *testing.T) {
	b := startBin(t, 2, nil, "--udp", "", "--tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0")
	base := openFDs(t, b.pid)
	const extra = 200
	var closed atomic.Int64
	var wg sync.WaitGroup
	for i := range metricsMaxConns + extra {
		c, err := net.Dial("tcp", b.addrs["metrics"])
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Read(make([]byte, 1))
			closed.Add(1)
		}()
	}
	// Every connection is either closed or held by the server.
	deadline := time.Now().Add(time.Minute)
	for closed.Load()+int64(openFDs(t, b.pid)-base) < metricsMaxConns+extra && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if held := openFDs(t, b.pid) - base; held > metricsMaxConns {
		t.Errorf("netlog serve holds %d descriptors for %d connections to --metrics (cap %d)", held, metricsMaxConns+extra, metricsMaxConns)
	}

	printed := make(chan struct{})
	go countLines(b.stdout, 1, printed)
	h, err := netlog.NewSocketHandler("tcp", b.addrs["tcp"], nil)
	if err != nil {
		t.Fatal(err)
	}
	slog.New(h).Info("while --metrics is full")
	h.Close(context.Background())
	select {
	case <-printed:
	case <-time.After(time.Minute):
		t.Fatal("no record printed while --metrics was full")
	}
	wg.Wait() // the held ones too, after metricsTimeout
}

// TestServeMemoryBound: 1,024 connections each send a frame of the
// largest size (1 MiB); netlog serve's peak RSS stays within --max-memory.
func TestServeMemoryBound(t *testing.T) {
	const maxMemory = 256 << 20
	b := startBin(t, 1, nil, "--udp", "", "--tcp", "127.0.0.1:0", "--max-memory", fmt.Sprint(maxMemory), "--max-conns-per-peer", "1024")
	const conns = 1024
	printed := make(chan struct{})
	go countLines(b.stdout, conns, printed)
	// A pickle of {"msg": "xxx…", "levelno": 20}, as Python's SocketHandler sends.
	msg := strings.Repeat("x", 1<<20-40)
	payload := binary.LittleEndian.AppendUint32([]byte("}(X\x03\x00\x00\x00msgX"), uint32(len(msg)))
	payload = append(append(payload, msg...), "X\x07\x00\x00\x00levelnoK\x14u."...)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	frame = append(frame, payload...)
	var wg sync.WaitGroup
	for i := range conns {
		c, err := net.Dial("tcp", b.addrs["tcp"])
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Write(frame); err != nil {
				t.Errorf("connection %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	select {
	case <-printed:
	case <-time.After(5 * time.Minute):
		t.Fatal("the frames were not all printed within 5 minutes")
	}
	rss := peakRSS(t, b.pid)
	t.Logf("peak RSS with %d connections each sending a %d-byte frame: %.1f MiB (--max-memory %d MiB)", conns, len(payload), float64(rss)/(1<<20), maxMemory>>20)
	if rss > maxMemory {
		t.Errorf("peak RSS %d bytes, over --max-memory %d", rss, maxMemory)
	}
}

// TestServeStopsAtOnce: netlog serve with no senders stops as soon as it
// is told to, not after --drain. The drain is an hour, so a server that
// waited for it is still running at the test's generous deadline.
func TestServeStopsAtOnce(t *testing.T) {
	b := startBin(t, 2, nil, "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--drain", "1h")
	go io.Copy(io.Discard, b.stdout)
	exited := make(chan error, 1)
	b.cmd.Process.Signal(syscall.SIGTERM)
	go func() { exited <- b.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(2 * time.Minute):
		b.cmd.Process.Kill()
		t.Error("still running 2 minutes after SIGTERM with --drain 1h and no senders: it waits for the drain")
	}
}
