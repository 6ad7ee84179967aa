package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
)

// rssBound is the memory netlog serve must stay under while 2,000 hostile
// connections are open (measured: see the README).
const rssBound = 128 << 20

// TestServeUnderHostileLoad opens 2,000 connections to the netlog serve
// binary from 32 loopback addresses: half send garbage (random bytes, a
// 4 GiB length prefix, a pickle that would run code), half send nothing.
// Meanwhile a good client's 10,000 records all arrive, in order; the
// process's peak RSS stays under rssBound; and its /metrics counts every
// refusal by reason.
func TestServeUnderHostileLoad(t *testing.T) {
	bin := buildNetlog(t)
	// The silent connections stay open for the whole test (--idle-timeout,
	// --handshake-timeout), 63 from each address (--max-conns-per-peer):
	// what is under test is the server's limit, which they nearly fill.
	cmd := exec.Command(bin, "serve", "--udp", "", "--tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
		"--idle-timeout", "5m", "--handshake-timeout", "5m", "--frame-timeout", "5s", "--max-conns-per-peer", "64")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	errs := bufio.NewScanner(stderr)
	addrs := map[string]string{}
	for len(addrs) < 2 && errs.Scan() {
		if m := listening.FindStringSubmatch(errs.Text()); m != nil {
			addrs[m[1]] = m[2]
		}
	}
	reports := make(chan string, 4096)
	go func() {
		for errs.Scan() {
			reports <- errs.Text()
		}
		close(reports)
	}()
	const good = 10000
	printed, allGood := make(chan int, 1), make(chan struct{})
	go func() {
		n, lines := 0, bufio.NewScanner(stdout)
		for lines.Scan() {
			if !strings.HasSuffix(lines.Text(), fmt.Sprintf(" good %d", n)) {
				t.Errorf("record %d printed as %q", n, lines.Text())
			}
			if n++; n == good {
				close(allGood)
			}
		}
		printed <- n
	}()

	const hostile = 2000
	conns := make([]net.Conn, 0, hostile)
	rnd := rand.New(rand.NewPCG(1, 2))
	garbage := [][]byte{[]byte("\xff\xff\xff\xff"), []byte("\x00\x00\x00\x10cos\nsystem\n(S'x'\ntR."), nil}
	for i := range hostile {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(i%32))}}
		c, err := d.Dial("tcp", addrs["tcp"])
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if i%2 == 0 {
			g := garbage[i%6/2]
			if g == nil {
				g = make([]byte, 4096)
				for j := range g {
					g[j] = byte(rnd.Uint32())
				}
			}
			c.Write(g)
		}
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()

	h, err := netlog.NewSocketHandler("tcp", addrs["tcp"], nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	for i := range good {
		log.Info(fmt.Sprint("good ", i))
	}
	h.Close(context.Background())

	// The server reads at its own pace (at its connection limit, what is
	// sent waits in the kernel): wait for the good records, then for every
	// garbage sender's refusal to be counted.
	select {
	case <-allGood:
	case <-time.After(2 * time.Minute):
		t.Fatal("the good records were not all printed within 2 minutes")
	}
	var metrics map[string]float64
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		metrics = scrape(t, "http://"+addrs["metrics"]+"/metrics")
		n := 0.0
		for _, r := range []string{"oversized", "unsafe", "malformed", "truncated"} {
			n += metrics[`netlog_receive_refused_total{reason="`+r+`"}`]
		}
		if n >= hostile/2 || time.Now().After(deadline) {
			break
		}
	}
	rss := peakRSS(t, cmd.Process.Pid)
	t.Logf("peak RSS with %d hostile connections open: %.1f MiB; metrics: %v", hostile, float64(rss)/(1<<20), metrics)
	if rss > rssBound {
		t.Errorf("peak RSS %d bytes, over the bound of %d", rss, rssBound)
	}
	if got := metrics[`netlog_receive_connections_active{listener="tcp `+addrs["tcp"]+`"}`]; got < hostile/2 {
		t.Errorf("only %v connections still open: the silent ones should be", got)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if n := <-printed; n != good {
		t.Errorf("%d of %d good records printed", n, good)
	}
	var refusals []string
	for r := range reports {
		refusals = append(refusals, r)
	}
	byReason := map[string]int{}
	for _, r := range refusals {
		if m := regexp.MustCompile(`^netlog: refused (\S+) frame from 127\.0\.1\.\d+:\d+ on tcp `).FindStringSubmatch(r); m != nil {
			byReason[m[1]]++
		}
	}
	for key := range metrics { // a reason counted but never reported is compared too
		if reason, ok := strings.CutPrefix(key, `netlog_receive_refused_total{reason="`); ok {
			byReason[strings.TrimSuffix(reason, `"}`)] += 0
		}
	}
	for reason, n := range byReason {
		if got := metrics[`netlog_receive_refused_total{reason="`+reason+`"}`]; int(got) != n {
			t.Errorf("%s: %d reported, %v counted", reason, n, got)
		}
	}
	if byReason["oversized"] == 0 || byReason["unsafe"] == 0 || byReason["oversized"]+byReason["unsafe"]+byReason["malformed"]+byReason["truncated"] < hostile/2 {
		t.Errorf("refusals by reason %v for %d garbage senders", byReason, hostile/2)
	}
}

// scrape reads a Prometheus text page into name{labels} → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if i := strings.LastIndexByte(line, ' '); i > 0 && !strings.HasPrefix(line, "#") {
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err == nil {
				m[line[:i]] = v
			}
		}
	}
	return m
}

// peakRSS is a process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
