package main

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
)

// sendProcess is netlog send in a child process, with n records "recI."
// (I from 0) under the logger name name.
type sendProcess struct {
	name   string
	cmd    *exec.Cmd
	stderr strings.Builder
	exited chan struct{} // closed once err is set
	err    error         // Wait's
}

// startRelaySender starts netlog's syslog handler over RELP,
// asynchronous, to relp.
func startRelaySender(t *testing.T, name, relp string, n int) *sendProcess {
	t.Helper()
	to := fmt.Sprintf("syslog+relp://%s?async=true&buffer=%d&buffer-bytes=256MiB&overflow=block", relp, n)
	return startSender(t, name, to, n)
}

// startSender starts netlog send to the URL to.
func startSender(t *testing.T, name, to string, n int) *sendProcess {
	t.Helper()
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "rec%d.\n", i)
	}
	// --timeout: the end waits this long for a first acknowledgment,
	// which comes only once rsyslog is up.
	s := &sendProcess{name: name, exited: make(chan struct{})}
	s.cmd = exec.Command(buildNetlog(t), "send", "--to", to, "--name", name, "--timeout", "10m")
	s.cmd.Stdin, s.cmd.Stderr = strings.NewReader(in.String()), &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.cmd.Process.Kill(); <-s.exited })
	return s
}

// senderCounts reads rsyslog's file: for each sender (by APP-NAME), how
// many times each of its records is in it.
func senderCounts(lines []string, names []string, n int) map[string][]int {
	seen := map[string][]int{}
	for _, name := range names {
		seen[name] = make([]int, n)
	}
	for _, l := range lines {
		f := strings.SplitN(l, "|", 8)
		if len(f) < 8 || seen[f[3]] == nil {
			continue
		}
		if m := relayedNo.FindStringSubmatch("|" + f[7]); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i < n {
				seen[f[3]][i]++
			}
		}
	}
	return seen
}

// firstInOrder checks that the records of sender name come before any
// of the senders others' in rsyslog's file (rsyslog's own messages and
// probes aside), in the order of their numbers.
func firstInOrder(lines []string, name string, others []string) error {
	fields := func(l string) []string { return strings.SplitN(l, "|", 8) }
	end := len(lines)
	for end > 0 && !(len(fields(lines[end-1])) == 8 && fields(lines[end-1])[3] == name) {
		end--
	}
	last := -1
	for k, l := range lines[:end] {
		f := fields(l)
		if len(f) < 8 || f[3] != name && !slices.Contains(others, f[3]) {
			continue
		}
		m := relayedNo.FindStringSubmatch("|" + f[7])
		if f[3] != name || m == nil {
			return fmt.Errorf("line %d, %q, comes before %s's last record (line %d)", k+1, l, name, end)
		}
		i, _ := strconv.Atoi(m[1])
		if i <= last {
			return fmt.Errorf("line %d: record %d after record %d", k+1, i, last)
		}
		last = i
	}
	return nil
}

// TestRelaySpoolSurvivesSIGKILL: netlog serve --relp with an output
// syslog+relp://rsyslog?spool=DIR, while rsyslog is down, is killed with
// SIGKILL twice while netlog send processes (netlog's RELP client) push
// records into it, and started again on the same port and spool each
// time; then rsyslog comes up.
//
// With rsyslog down, netlog serve acknowledges nothing (a record is
// acknowledged once its output delivered it), so each RELP sender keeps
// its window, gives up a session waiting for acknowledgments and sends
// the window again on a new one. What netlog serve took is in its spool:
// each start must recover at least what the process before it held at
// its kill, and once rsyslog is up deliver it all. Every RELP sender
// ends with every record acknowledged, and every record is in rsyslog's
// file; the duplicates (taken again after a resend, or recovered and
// sent again by the sender) are counted.
//
// Before the RELP senders, the first run takes datagrams (netlog send
// --to udp://), which no sender can send again: they reach rsyslog only
// through the spool, across both kills.
func TestRelaySpoolSurvivesSIGKILL(t *testing.T) {
	const senders, n, datagrams = 3, 20_000, 300
	r := peer.StartRsyslog(t, "", "", "")
	r.Kill(t)
	dir := filepath.Join(t.TempDir(), "spool") // missing: netlog serve makes it
	out := "syslog+relp://" + r.RELP + "?spool=" + dir
	label := `{output="` + out + `"}`
	args := []string{"--out", out, "--max-conns-per-peer", "1000"} // sessions waiting for rsyslog hold their slots
	rs := startRelay(t, append(args, "--udp", "127.0.0.1:0")...)
	addr := rs.relp

	udp := startSender(t, "udp0", "udp://"+rs.addrs["udp"], datagrams)
	if <-udp.exited; udp.err != nil {
		t.Fatalf("netlog send --to udp://: %v: %s", udp.err, udp.stderr.String())
	}
	var base float64 // what the run holds before the RELP senders' records
	eventually(t, "run 1 to read the datagrams", func() bool {
		m := scrape(t, "http://"+rs.metrics+"/metrics")
		base = m["netlog_output_queued"+label]
		return m["netlog_receive_records_total"]+m["netlog_receive_kernel_drops_total"] >= datagrams
	})
	udpTaken := base
	t.Logf("run 1 took %v of %d datagrams", udpTaken, datagrams)

	var names []string
	var ss []*sendProcess
	for k := range senders {
		names = append(names, fmt.Sprintf("sender%d", k))
		ss = append(ss, startRelaySender(t, names[k], addr, n))
	}
	// Each run takes 1,000 records beyond what it held before (so its
	// senders have sent a window again at least once), and is killed;
	// the next must recover at least what it held.
	var recovered float64
	for kill := 1; kill <= 2; kill++ {
		var m map[string]float64
		eventually(t, fmt.Sprintf("run %d to take 1,000 records", kill), func() bool {
			m = scrape(t, "http://"+rs.metrics+"/metrics")
			return m["netlog_output_queued"+label] >= base+1000
		})
		held := m["netlog_output_queued"+label]
		t.Logf("run %d: recovered %v records, took %v, holds %v, delivered %v; killed", kill, m["netlog_output_recovered_total"+label],
			m["netlog_receive_records_total"], held, m["netlog_output_delivered_total"+label])
		if m["netlog_output_delivered_total"+label] != 0 {
			t.Errorf("run %d delivered records with rsyslog down", kill)
		}
		rs.kill()
		rs = startRelayOn(t, addr, args...)
		m = scrape(t, "http://"+rs.metrics+"/metrics")
		recovered = m["netlog_output_recovered_total"+label]
		base = recovered
		t.Logf("run %d: recovered %v records, %v corrupt frames skipped", kill+1, recovered, m["netlog_output_corrupt_total"+label])
		if recovered < held {
			t.Errorf("run %d recovered %v records; the run before it held %v at its kill", kill+1, recovered, held)
		}
	}

	eventually(t, "run 3 to take records", func() bool {
		return scrape(t, "http://"+rs.metrics+"/metrics")["netlog_receive_records_total"] > 0
	})
	r.Start(t)
	deadline := time.After(15 * time.Minute)
	for _, s := range ss {
		select {
		case <-s.exited:
			t.Logf("%s: %s", s.name, strings.TrimSpace(s.stderr.String()))
			if s.err != nil {
				t.Errorf("%s: %v: %s", s.name, s.err, s.stderr.String())
			}
		case <-deadline:
			t.Fatalf("%s has not ended 15 minutes after rsyslog came up", s.name)
		}
	}

	// Every RELP sender had every record acknowledged: each must be in
	// rsyslog's file, and so must every datagram run 1 took, and
	// everything the last run held.
	var m map[string]float64
	eventually(t, "run 3 to deliver what it holds", func() bool {
		m = scrape(t, "http://"+rs.metrics+"/metrics")
		return m["netlog_output_queued"+label] == 0
	})
	lines := r.All()
	seen := senderCounts(lines, append(names, "udp0"), n)
	if err := firstInOrder(lines, "udp0", names); err != nil {
		t.Errorf("the datagrams, first in run 1's spool, are not delivered first and in order: %v", err)
	}
	written, dups := 0, 0
	for _, name := range names {
		missing, d, text := gapSummary(seen[name])
		t.Logf("%s: %s", name, text)
		if missing > 0 {
			t.Errorf("%s: %s", name, text)
		}
		dups += d
	}
	udpSeen := 0
	for _, c := range seen["udp0"][:datagrams] {
		udpSeen += min(c, 1)
	}
	t.Logf("datagrams: run 1 took %v of %d, rsyslog wrote %d of them", udpTaken, datagrams, udpSeen)
	if float64(udpSeen) < udpTaken {
		_, _, text := gapSummary(seen["udp0"][:datagrams])
		t.Errorf("run 1 took %v datagrams, rsyslog wrote %d of them (of the %d sent: %s)", udpTaken, udpSeen, datagrams, text)
	}
	for _, counts := range seen {
		for _, c := range counts {
			written += c
		}
	}
	took, delivered := m["netlog_receive_records_total"], m["netlog_output_delivered_total"+label]
	t.Logf("run 3 recovered %v, took %v, delivered %v; rsyslog wrote %d records: the %d the RELP senders sent, %d duplicates of them, and datagrams",
		recovered, took, delivered, written, senders*n, dups)
	if delivered != recovered+took || float64(written) < delivered {
		t.Errorf("run 3 recovered %v and took %v records, delivered %v, and rsyslog wrote %d: want recovered + took = delivered <= written",
			recovered, took, delivered, written)
	}
}

// TestRelaySpoolBadOutputs: a spool= that is relative, one that another
// output has, or a bad fsync= stops netlog serve at start, naming the
// --out URL and the parameter.
func TestRelaySpoolBadOutputs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		urls []string
		want string
	}{
		{[]string{"syslog+relp://127.0.0.1:1?spool=spool"}, `spool="spool": want an absolute path`},
		{[]string{"syslog+relp://127.0.0.1:1?spool=" + dir + "/a&fsync=sometimes"}, `fsync="sometimes"`},
		{[]string{"syslog+relp://127.0.0.1:1?memory-first=1MiB"}, `memory-first="1MiB": applies only with spool=DIR`},
		{[]string{"syslog+relp://127.0.0.1:1?spool=" + dir + "/b", "syslog+tcp://127.0.0.1:2?spool=" + dir + "/x/../b/"},
			`spool="` + dir + `/b": the spool of --out "syslog+relp://127.0.0.1:1?spool=` + dir + `/b" already`},
	} {
		args := []string{"--tcp", "", "--udp", ""}
		for _, u := range tc.urls {
			args = append(args, "--out", u)
		}
		code, stderr := runServe(args...)
		last := tc.urls[len(tc.urls)-1]
		if code != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "--out") || !strings.Contains(stderr, last) {
			t.Errorf("--out %s: exit %d, %q; want 2 and %q", last, code, stderr, tc.want)
		}
	}
}

// TestRelaySpoolKeepsAtStop: netlog serve stopped (SIGTERM's path) while
// its spooled output is down keeps the record it could not deliver in
// the spool, says so, and exits with status 0 (nothing is lost); started
// again on the same spool (from a config file's [[output]] table) once
// rsyslog is up, it delivers it and counts it as recovered.
func TestRelaySpoolKeepsAtStop(t *testing.T) {
	r := peer.StartRsyslog(t, "", "", "")
	r.Kill(t)
	dir := filepath.Join(t.TempDir(), "spool")
	out := "syslog+relp://" + r.RELP + "?spool=" + dir
	code, report, _ := stopWithOutputDown(t, out, "kept for later")
	if code != 0 {
		t.Errorf("exit status %d, want 0 (the record is kept)", code)
	}
	if !strings.Contains(report, "output "+out+": 1 records kept in its spool for the next start") {
		t.Errorf("netlog serve reported:\n%s", report)
	}

	r.Start(t)
	config := writeConfig(t, fmt.Sprintf("[[output]]\nurl = %q\nspool = %q\n", "syslog+relp://"+r.RELP, dir))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 2, "--config", config, "--tcp", "", "--udp", "", "--relp", "127.0.0.1:0", "--metrics", "127.0.0.1:0")
	var got []string
	for _, l := range r.Lines(t, 1, time.Minute) {
		if strings.HasSuffix(l, "|kept for later") {
			got = append(got, l)
		}
	}
	label := `{output="syslog+relp://` + r.RELP + `?spool=` + url.QueryEscape(dir) + `"}`
	m := scrape(t, "http://"+s.addrs["metrics"]+"/metrics")
	if len(got) != 1 || m["netlog_output_recovered_total"+label] != 1 {
		t.Errorf("after the restart rsyslog wrote %q; recovered %v (%v)", got, m["netlog_output_recovered_total"+label], m)
	}
}

// TestRelaySpoolLocked: a second netlog serve on a spool another one has
// fails at start, naming its --out URL.
func TestRelaySpoolLocked(t *testing.T) {
	dir := t.TempDir()
	out := "syslog+relp://" + peer.FreePort(t, "tcp") + "?spool=" + dir
	startRelay(t, "--out", out)
	code, stderr := runServe("--tcp", "", "--udp", "", "--out", out)
	t.Logf("the second netlog serve: %s", stderr)
	if code != 2 || !strings.Contains(stderr, `--out "`+out+`"`) {
		t.Errorf("exit %d, %q; want 2 and the URL", code, stderr)
	}
}
