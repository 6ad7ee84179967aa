//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
)

// netns is a pair of network namespaces joined by a veth pair: two hosts,
// sender (10.231.0.1) and collector (10.231.0.2), on a link of their own
// that reaches nothing else.
type netns struct{ a, b, va string }

func newNetns(t *testing.T) *netns {
	t.Helper()
	suffix := strconv.Itoa(os.Getpid())
	n := &netns{a: "netlog-a-" + suffix, b: "netlog-b-" + suffix, va: "nlva" + suffix}
	ip := peer.Path(t, "ip")
	if os.Geteuid() != 0 {
		peer.Unavailable(t, "network namespaces: the test needs root")
	}
	run := func(args ...string) error {
		out, err := exec.Command(ip, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("netns", "add", n.a); err != nil {
		peer.Unavailable(t, "network namespaces: "+err.Error())
	}
	t.Cleanup(func() { run("netns", "del", n.a); run("netns", "del", n.b) })
	vb := "nlvb" + suffix
	for _, args := range [][]string{
		{"netns", "add", n.b},
		{"link", "add", n.va, "netns", n.a, "type", "veth", "peer", "name", vb, "netns", n.b},
		{"-n", n.a, "addr", "add", "10.231.0.1/24", "dev", n.va},
		{"-n", n.b, "addr", "add", "10.231.0.2/24", "dev", vb},
		{"-n", n.a, "link", "set", n.va, "up"},
		{"-n", n.b, "link", "set", vb, "up"},
		{"-n", n.a, "link", "set", "lo", "up"},
		{"-n", n.b, "link", "set", "lo", "up"},
	} {
		if err := run(args...); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// link brings the sender's end of the link up or down.
func (n *netns) link(t *testing.T, state string) {
	t.Helper()
	if out, err := exec.Command("ip", "-n", n.a, "link", "set", n.va, state).CombinedOutput(); err != nil {
		t.Fatalf("link %s: %v: %s", state, err, out)
	}
}

// TestPartition streams records from netlog send (async) in one namespace
// to netlog serve in another, and cuts the link between them for 10 s in
// the middle. Nothing within the buffer is lost, none arrives after a
// newer one, the sender never stops reading its input (its caller is
// never blocked), and records flow again soon after the link is back. The
// handler resets the connection it gives up, so what its kernel buffer
// held is not delivered late, and sends the frames the collector had not
// acknowledged again on the new one; duplicates are counted.
func TestPartition(t *testing.T) {
	n := newNetns(t)
	bin := buildNetlog(t)
	serve := exec.Command("ip", "netns", "exec", n.b, bin, "serve", "--tcp", "10.231.0.2:9020", "--udp", "")
	out, _ := serve.StdoutPipe()
	serveErr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { serve.Process.Kill(); serve.Wait() }()
	if errs := bufio.NewScanner(serveErr); !errs.Scan() || !strings.Contains(errs.Text(), "listening on tcp 10.231.0.2:9020") {
		t.Fatalf("netlog serve: %q", errs.Text())
	}
	type arrival struct {
		i  int
		at time.Time
	}
	arrived := make(chan arrival, 1<<20)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			i, err := strconv.Atoi(lines.Text()[strings.LastIndexByte(lines.Text(), ' ')+1:])
			if err != nil {
				t.Errorf("printed %q", lines.Text())
			}
			arrived <- arrival{i, time.Now()}
		}
		close(arrived)
	}()

	send := exec.Command("ip", "netns", "exec", n.a, bin, "send", "--to",
		"tcp://10.231.0.2:9020?async=true&buffer=1000000&dial-timeout=200ms", "--timeout", "1m")
	stdin, _ := send.StdinPipe()
	var summary strings.Builder
	send.Stderr = &summary
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	const rate, seconds = 5000, 14 // records a second; the cut is from 2 s to 12 s
	var cut, restored time.Time
	worst := time.Duration(0)
	start := time.Now()
	for i := range rate * seconds {
		switch i {
		case 2 * rate:
			n.link(t, "down")
			cut = time.Now()
		case 12 * rate:
			n.link(t, "up")
			restored = time.Now()
		}
		t0 := time.Now()
		fmt.Fprintf(stdin, "p %d\n", i)
		worst = max(worst, time.Since(t0))
		if ahead := time.Until(start.Add(time.Duration(i+1) * time.Second / rate)); ahead > 0 {
			time.Sleep(ahead) // the pace of the stream under test
		}
	}
	stdin.Close()
	if err := send.Wait(); err != nil {
		t.Fatalf("netlog send: %v: %s", err, summary.String())
	}
	var first time.Time // the first record to arrive after the link came back
	a := newArrivals(rate * seconds)
	timeout := time.After(time.Minute)
	for a.distinct < rate*seconds {
		var r arrival
		select {
		case r = <-arrived:
		case <-timeout:
			t.Fatalf("%v", a)
		}
		a.add(r.i)
		if first.IsZero() && r.at.After(restored) {
			first = r.at
		}
	}
	t.Logf("cut %v; after the link came back the first record arrived in %v; %v; slowest write to the sender's input %v; %s",
		restored.Sub(cut).Round(time.Millisecond), first.Sub(restored).Round(time.Millisecond), a, worst, strings.TrimSpace(summary.String()))
	if !a.ok(true) {
		t.Errorf("%v", a)
	}
	if d := first.Sub(restored); d > 30*time.Second { // the backoff cap
		t.Errorf("records flowed again only %v after the link came back", d)
	}
	if worst > time.Second {
		t.Errorf("the sender stopped reading its input for %v: its caller blocked", worst)
	}
}

// TestLateDNS: the collector's name does not resolve when netlog send
// starts (the sender's namespace has its own /etc/hosts, without it) and
// resolves later. The records wait in the queue, and all arrive once the
// name resolves.
func TestLateDNS(t *testing.T) {
	n := newNetns(t)
	bin := buildNetlog(t)
	hosts := filepath.Join("/etc/netns", n.a, "hosts") // ip netns exec mounts it over /etc/hosts
	if err := os.MkdirAll(filepath.Dir(hosts), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(hosts)) })

	serve := exec.Command("ip", "netns", "exec", n.b, bin, "serve", "--tcp", "10.231.0.2:9020", "--udp", "")
	out, _ := serve.StdoutPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { serve.Process.Kill(); serve.Wait() }()
	const records = 100
	var in strings.Builder
	for i := range records {
		fmt.Fprintf(&in, "late %d\n", i)
	}
	send := exec.Command("ip", "netns", "exec", n.a, bin, "send", "--to",
		"tcp://collector.netlog.test:9020?async=true", "--timeout", "30s")
	send.Stdin = strings.NewReader(in.String())
	var summary strings.Builder
	send.Stderr = &summary
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	time.Sleep(time.Second) // the name fails to resolve for a while
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n10.231.0.2 collector.netlog.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resolved := time.Now()
	for i := range records {
		if !lines.Scan() || !strings.HasSuffix(lines.Text(), fmt.Sprintf(" late %d", i)) {
			t.Fatalf("record %d: %q", i, lines.Text())
		}
		if i == 0 {
			t.Logf("first record %v after the name resolves", time.Since(resolved).Round(time.Millisecond))
		}
	}
	if err := send.Wait(); err != nil {
		t.Fatalf("netlog send: %v: %s", err, summary.String())
	}
}
