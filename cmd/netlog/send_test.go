package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
)

// sendCmd runs netlog send in-process with stdin and returns its exit
// status and standard error.
func sendCmd(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var errs strings.Builder
	code := run(context.Background(), append([]string{"send"}, args...), strings.NewReader(stdin), nil, &errs)
	return code, errs.String()
}

var summary = regexp.MustCompile(`netlog send: (\d+) sent, (\d+) failed, \d+ records/s`)

// TestSendToServe: a message, and then the lines of a large standard
// input, from netlog send to netlog serve.
func TestSendToServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 1, "--tcp", "127.0.0.1:0", "--udp", "")
	to := "tcp://" + s.addrs["tcp"]
	code, errs := sendCmd(t, "", "--to", to, "--level", "warn", "--name", "deploy", "--attr", "env=prod", "--attr", "v=2", "rolled", "out")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if l := s.line(t); !strings.HasSuffix(l, " WARNING deploy: rolled out env=prod v=2") {
		t.Errorf("printed %q", l)
	}

	const n = 20000
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	printed := make(chan string, n) // read while sending, as a terminal would
	go func() {
		for range n {
			if !s.stdout.Scan() {
				break
			}
			printed <- s.stdout.Text()
		}
		close(printed)
	}()
	code, errs = sendCmd(t, in.String(), "--to", to+"?async=true")
	if m := summary.FindStringSubmatch(errs); code != 0 || m == nil || m[1] != fmt.Sprint(n) || m[2] != "0" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	i := 0
	for l := range printed {
		if !strings.HasSuffix(l, fmt.Sprintf(" INFO netlog: line %d", i)) {
			t.Fatalf("record %d printed as %q", i, l)
		}
		i++
	}
	if i != n {
		t.Errorf("%d of %d records printed", i, n)
	}
}

// TestSendFailures: what cannot be delivered makes the exit status 1 and
// is counted; a bad URL or flag is a usage error that names it.
func TestSendFailures(t *testing.T) {
	code, errs := sendCmd(t, "", "--to", "tcp://"+peer.FreePort(t, "tcp"), "nobody listens")
	if m := summary.FindStringSubmatch(errs); code != 1 || m == nil || m[1] != "0" || m[2] != "1" {
		t.Errorf("to a closed port: exit %d, stderr %q", code, errs)
	}
	code, errs = sendCmd(t, "a\nb\nc\n", "--to", "tcp://"+peer.FreePort(t, "tcp")+"?async=true", "--timeout", "50ms")
	if m := summary.FindStringSubmatch(errs); code != 1 || m == nil || m[1] != "0" || m[2] != "3" || !strings.Contains(errs, "3 records not delivered") {
		t.Errorf("async to a closed port: exit %d, stderr %q", code, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--to", "gopher://x:70", "m"}, `unknown scheme "gopher"`},
		{[]string{"--to", "tcp://x:70?colour=red", "m"}, `unknown parameter "colour"`},
		{[]string{"--level", "loud", "m"}, `"loud"`},
		{[]string{"--attr", "novalue", "m"}, `"novalue" is not key=value`},
	} {
		if code, errs := sendCmd(t, "", c.args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %s", c.args, code, errs, c.want)
		}
	}
}

// TestSendToPython: netlog send to the logging cookbook's receiver.
func TestSendToPython(t *testing.T) {
	addr, lines := peer.StartPython(t, "../../testdata/py_receiver.py", "tcp", "127.0.0.1")
	if code, errs := sendCmd(t, "", "--to", "tcp://"+addr, "--level", "error", "--name", "cron", "--attr", "job=backup", "backup failed"); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(peer.NextLine(t, lines)), &m); err != nil {
		t.Fatal(err)
	}
	if m["name"] != "cron" || m["getMessage"] != "backup failed" || m["levelname"] != "ERROR" || m["job"] != "backup" {
		t.Errorf("Python saw %v", m)
	}
}

// TestSendToRsyslog: netlog send to rsyslog over TCP and UDP.
func TestSendToRsyslog(t *testing.T) {
	r := peer.StartRsyslog(t, "", "", "")
	for _, to := range []string{"syslog+tcp://" + r.TCP + "?facility=local0", "syslog+udp://" + r.UDP + "?facility=local0&format=rfc3164"} {
		if code, errs := sendCmd(t, "", "--to", to, "--level", "warn", "--name", "backup", "--attr", "host=db1", "disk", "low"); code != 0 {
			t.Fatalf("%s: exit %d, stderr %q", to, code, errs)
		}
		got := r.Lines(t, 1, 10*time.Second)
		if len(got) != 1 {
			t.Fatalf("%s: rsyslog wrote %q", to, got)
		}
		f := strings.SplitN(got[0], "|", 8)
		if len(f) != 8 || f[0] != "132" || f[3] != "backup" || !strings.HasPrefix(strings.TrimSpace(f[7]), "disk low") {
			t.Errorf("%s: rsyslog wrote %q", to, got[0])
		}
	}
}

// TestVersion: netlog version names the module and the Go it was built
// with, and succeeds.
func TestVersion(t *testing.T) {
	var out strings.Builder
	for _, arg := range []string{"version", "--version"} {
		out.Reset()
		if code := run(context.Background(), []string{arg}, nil, &out, nil); code != 0 {
			t.Errorf("%s: exit %d", arg, code)
		}
		if v := out.String(); !strings.HasPrefix(v, "netlog ") || !strings.Contains(v, " go1.") {
			t.Errorf("%s printed %q", arg, v)
		}
	}
}
