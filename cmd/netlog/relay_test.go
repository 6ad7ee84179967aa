package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
)

// TestRelayBadOutputs: a bad --out fails at start, naming the URL and
// what is wrong with it.
func TestRelayBadOutputs(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"bogus://x", `unknown scheme "bogus"`},
		{"syslog+tcp://127.0.0.1:1?frobnicate=1", `unknown parameter "frobnicate"`},
		{"tcp://127.0.0.1:1?async=false", "always asynchronous"},
		{"stdout?format=yaml", `format="yaml"`},
		{"stderr?colour=1", `unknown parameter "colour"`},
		{"syslog+relp://user:secret@127.0.0.1:1", "user"},
		{"%zz", "invalid URL escape"},
	} {
		var stderr strings.Builder
		code := run(context.Background(), []string{"serve", "--tcp", "", "--udp", "", "--out", "stdout", "--out", tc.url}, nil, io.Discard, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), "--out") {
			t.Errorf("--out %s: exit %d, %q; want 2 and %q", tc.url, code, stderr.String(), tc.want)
		}
		if strings.Contains(stderr.String(), "secret") {
			t.Errorf("--out %s: the password is printed: %q", tc.url, stderr.String())
		}
	}
}

// pyRecord is one record py_sender.py sends, as netlog serve prints it.
type pyRecord map[string]any

// TestRelayKeepsFields: Python's SocketHandler → netlog serve → tcp:// (a
// pickle) → a second netlog serve: the second prints every field the
// first does, the first hop's peer and listener included.
func TestRelayKeepsFields(t *testing.T) {
	py := peer.Path(t, "python3")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second := startServe(t, ctx, 1, "--tcp", "127.0.0.1:0", "--udp", "", "--format", "json")
	first := startServe(t, ctx, 1, "--tcp", "127.0.0.1:0", "--udp", "", "--format", "json",
		"--out", "stdout", "--out", "tcp://"+second.addrs["tcp"])
	if out, err := exec.Command(py, "../../receive/testdata/py_sender.py", "tcp", first.addrs["tcp"]).CombinedOutput(); err != nil {
		t.Fatalf("py_sender.py: %v: %s", err, out)
	}
	for i := range 8 {
		var a, b pyRecord
		la, lb := first.line(t), second.line(t)
		if err := json.Unmarshal([]byte(la), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(lb), &b); err != nil {
			t.Fatal(err)
		}
		if a["peer"] == nil || a["pathname"] == nil || a["lineno"] == nil || a["thread"] == nil {
			t.Errorf("record %d at the first relay lacks fields: %s", i, la)
		}
		for k, v := range a {
			if fmt.Sprint(b[k]) != fmt.Sprint(v) {
				t.Errorf("record %d: %s: first relay %v, second %v", i, k, v, b[k])
			}
		}
		if len(a) != len(b) {
			t.Errorf("record %d: fields differ:\nfirst  %s\nsecond %s", i, la, lb)
		}
	}
}

// TestRelayToRsyslog: Python's SocketHandler → netlog serve --out
// syslog+tcp:// → rsyslog: rsyslog's file has the logger name as
// APP-NAME, the level as severity, the message, the attributes and source
// as structured data, and where netlog serve received the record.
func TestRelayToRsyslog(t *testing.T) {
	py := peer.Path(t, "python3")
	r := peer.StartRsyslog(t, "", "", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 1, "--tcp", "127.0.0.1:0", "--udp", "", "--out", "syslog+tcp://"+r.TCP)
	out, err := exec.Command(py, "../../receive/testdata/py_sender.py", "tcp", s.addrs["tcp"]).Output()
	if err != nil {
		t.Fatalf("py_sender.py: %v", err)
	}
	var sent struct {
		Pid   int
		Lines map[string]int
	}
	if err := json.Unmarshal(out, &sent); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range r.Lines(t, 8, time.Minute) {
		if strings.Contains(l, "|py.sender|") {
			got = append(got, l)
		}
	}
	if len(got) != 8 {
		t.Fatalf("rsyslog wrote %d records from py.sender:\n%s", len(got), strings.Join(got, "\n"))
	}
	// PRI: user (1) × 8 + severity: debug 7, info 6, warning 4, err 3,
	// crit 2; Level 25, between INFO and WARNING, is info.
	for i, want := range []struct {
		pri, msg, line string
	}{{"15", "héllo DEBUG ✓", "10"}, {"14", "héllo INFO ✓", "20"}, {"12", "héllo WARNING ✓", "30"},
		{"11", "héllo ERROR ✓", "40"}, {"10", "héllo CRITICAL ✓", "50"}, {"14", "héllo Level 25 ✓", "25"}} {
		f := strings.SplitN(got[i], "|", 8)
		source := fmt.Sprintf(`/receive/testdata/py_sender.py:%d"]`, sent.Lines[want.line])
		if f[0] != want.pri || f[3] != "py.sender" || f[4] != strconv.Itoa(sent.Pid) || f[7] != want.msg ||
			!strings.Contains(f[6], `[slog@32473 user="ü" n="3" ratio="0.5" ok="true" g.a="1" g.h.b="c" source="`) || !strings.Contains(f[6], source) ||
			!strings.Contains(f[6], `[netlog@32473 peer="127.0.0.1:`) || !strings.Contains(f[6], `listener="tcp `+s.addrs["tcp"]+`"]`) {
			t.Errorf("record %d: rsyslog wrote %q", i, got[i])
		}
	}
	if !strings.Contains(got[6], "ZeroDivisionError") {
		t.Errorf("the exception's text is not in the message: %q", got[6])
	}
}

// relayServe is netlog serve run as a process (the binary, not under the
// race detector) with a RELP listener in front of its outputs.
type relayServe struct {
	cmd           *exec.Cmd
	relp, metrics string
	addrs         map[string]string // every listener's: "udp" → its address
	logged        chan struct{}     // closed once its stderr is read to the end
}

func startRelay(t *testing.T, args ...string) *relayServe {
	t.Helper()
	return startRelayOn(t, "127.0.0.1:0", args...)
}

// startRelayOn starts netlog serve with its RELP listener on relp.
func startRelayOn(t *testing.T, relp string, args ...string) *relayServe {
	t.Helper()
	cmd := exec.Command(buildNetlog(t), append([]string{"serve", "--tcp", "", "--udp", "", "--relp", relp, "--metrics", "127.0.0.1:0"}, args...)...)
	cmd.Stdout = os.Stderr
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rs := &relayServe{cmd: cmd, addrs: map[string]string{}, logged: make(chan struct{})}
	t.Cleanup(rs.kill)
	lines := bufio.NewScanner(stderr)
	for rs.addrs["metrics"] == "" { // the last listener netlog serve starts
		if !lines.Scan() {
			close(rs.logged)
			t.Fatalf("netlog serve did not start: %v", lines.Err())
		}
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			rs.addrs[m[1]] = m[2]
		} else {
			t.Logf("netlog serve: %s", lines.Text())
		}
	}
	rs.relp, rs.metrics = rs.addrs["relp"], rs.addrs["metrics"]
	go func() {
		defer close(rs.logged)
		n := 0
		for lines.Scan() {
			if n++; n <= 5 || n%1000 == 0 { // an output that is down is reported at every retry
				t.Logf("netlog serve: %s (line %d)", lines.Text(), n)
			}
		}
	}()
	return rs
}

// kill ends netlog serve with SIGKILL, as a crash would, and waits for it
// (and for the end of what it wrote on stderr, read before Wait closes
// the pipe).
func (rs *relayServe) kill() {
	rs.cmd.Process.Kill()
	<-rs.logged
	rs.cmd.Wait()
}

// relpSender is netlog's syslog handler over RELP, asynchronous, with a
// short backoff.
func relpSender(t *testing.T, addr string, n int) netlog.Handler {
	t.Helper()
	h, err := netlog.NewSyslogHandler("relp", addr, &netlog.SyslogOptions{Options: netlog.Options{
		Async:   &netlog.Async{MaxRecords: n, MaxBytes: 1 << 30},
		Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var relayedNo = regexp.MustCompile(`\|rec(\d+)\.$`)

// counts reads rsyslog's file: how many times each record is in it.
func counts(lines []string, n int) []int {
	seen := make([]int, n)
	for _, l := range lines {
		if m := relayedNo.FindStringSubmatch(l); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i < n {
				seen[i]++
			}
		}
	}
	return seen
}

// gapSummary says how many records are missing, duplicated, and the first
// missing one.
func gapSummary(seen []int) (missing, dups int, text string) {
	first := -1
	for i, c := range seen {
		if c == 0 {
			if missing++; first < 0 {
				first = i
			}
		}
		dups += max(c-1, 0)
	}
	return missing, dups, fmt.Sprintf("%d missing, %d duplicated, first gap at %d", missing, dups, first)
}

// TestRelayRsyslogKills streams 200,000 records from netlog's RELP
// client into netlog serve --relp --out syslog+relp://rsyslog while
// rsyslog is killed with SIGKILL and started again on the same port
// three times, after each quarter has reached its file. At each kill,
// every record netlog serve had acknowledged to the sender is already in
// rsyslog's file (the sender's connection to netlog serve stays up, so
// its acknowledgments come in order: the first A records, A read after
// rsyslog is dead and can acknowledge nothing more). At the end every
// record is in the file; duplicates (written by rsyslog but not
// acknowledged before it died, so sent again) are counted.
func TestRelayRsyslogKills(t *testing.T) {
	const n = 200_000
	r := peer.StartRsyslog(t, "", "", "")
	rs := startRelay(t, "--out", "syslog+relp://"+r.RELP)
	h := relpSender(t, rs.relp, n)
	log := slog.New(h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			log.Info(fmt.Sprintf("rec%d.", i))
		}
	}()
	grow := &fileLines{path: r.Out}
	for k := 1; k <= 3; k++ {
		if !grow.waitFor(k*n/4, 5*time.Minute) {
			t.Fatalf("rsyslog's file did not reach %d lines", k*n/4)
		}
		r.Kill(t)
		acked := int(h.Stats().Acknowledged)
		seen := counts(r.All(), n)
		early := 0
		for i := range min(acked, n) {
			if seen[i] == 0 {
				early++
			}
		}
		_, _, text := gapSummary(seen[:min(acked, n)])
		t.Logf("kill %d: the sender had %d records acknowledged; of those, in rsyslog's file: %s", k, acked, text)
		if early > 0 {
			t.Errorf("kill %d: %d records acknowledged to the sender are not in rsyslog's file", k, early)
		}
		r.Start(t)
	}
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	missing, _, text := gapSummary(counts(r.All(), n))
	t.Logf("through netlog serve to rsyslog, with 3 SIGKILLs of rsyslog: %s; sender stats %+v", text, st)
	if missing != 0 || st.Written != n || st.Dropped.Total() != 0 {
		t.Errorf("%s; sender stats %+v", text, st)
	}
}

// TestRelayBackPressure: while the output (rsyslog over RELP) is down,
// netlog serve takes records into its output queue (buffer=100) and no
// further, and acknowledges nothing to the RELP sender; once rsyslog is
// up, every record reaches it and is acknowledged.
//
// How many records netlog serve takes before it stops depends on the
// sender: a RELP session commits (and waits) whenever its input runs dry
// or 256 messages are in, and a sender that gets no acknowledgments
// reconnects and sends its window again on a new session; at most
// buffer are queued, and one more waits for room per session.
func TestRelayBackPressure(t *testing.T) {
	const n, buffer = 2000, 100
	r := peer.StartRsyslog(t, "", "", "")
	r.Kill(t)
	rs := startRelay(t, "--out", fmt.Sprintf("syslog+relp://%s?buffer=%d", r.RELP, buffer))
	h := relpSender(t, rs.relp, n)
	defer h.Close(context.Background())
	log := slog.New(h)
	for i := range n {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	out := fmt.Sprintf(`{output="syslog+relp://%s?buffer=%d"}`, r.RELP, buffer)
	var m map[string]float64
	// Until the sender has given up a session for want of
	// acknowledgments (or filled the queue), and what netlog serve took
	// is queued.
	connsKey := `netlog_receive_connections_total{listener="tcp ` + rs.relp + `"}`
	eventually(t, "the sender to give up waiting for acknowledgments", func() bool {
		m = scrape(t, "http://"+rs.metrics+"/metrics")
		took, queued := m["netlog_receive_records_total"], m["netlog_output_queued"+out]
		return took > 0 && (queued == took || queued == buffer) && (m[connsKey] >= 2 || queued == buffer)
	})
	conns := m[connsKey]
	st := h.Stats()
	t.Logf("with the output down: netlog serve took %v records over %v connections, queued %v; the sender has %d acknowledged",
		m["netlog_receive_records_total"], conns, m["netlog_output_queued"+out], st.Acknowledged)
	if st.Acknowledged != 0 || m["netlog_output_delivered_total"+out] != 0 || m["netlog_receive_records_total"] > buffer+conns {
		t.Errorf("want nothing acknowledged or delivered, and at most %v records taken", buffer+conns)
	}
	if code, body := healthz(t, rs.metrics); code != http.StatusServiceUnavailable || !strings.Contains(body, `"ok":false`) {
		t.Errorf("/healthz with the output down: %d %s", code, body)
	}
	r.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	missing, dups, text := gapSummary(counts(r.All(), n))
	if st := h.Stats(); missing != 0 || st.Written != n {
		t.Errorf("after the output came up: %s; sender stats %+v", text, st)
	}
	t.Logf("after the output came up: %s (%d duplicates: what the sender sent again on new sessions)", text, dups)
	eventually(t, "/healthz to answer 200 once the output delivers", func() bool {
		code, _ := healthz(t, rs.metrics)
		return code == http.StatusOK
	})
}

// healthz asks netlog serve's /healthz.
func healthz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRelayDeadOutputDatagrams: records from a datagram input (which
// cannot be acknowledged) go to a live output (stdout) and a dead one
// (nothing listens) with buffer=100: stdout gets every record netlog
// serve took, the dead output holds 100 and drops the rest, counted
// exactly in /metrics. (The kernel may drop datagrams before netlog serve
// reads them, on a busy machine: the counts are checked against what it
// took.)
func TestRelayDeadOutputDatagrams(t *testing.T) {
	const n, buffer = 300, 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dead := fmt.Sprintf("syslog+tcp://%s?buffer=%d", peer.FreePort(t, "tcp"), buffer)
	s := startServe(t, ctx, 2, "--tcp", "", "--udp", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
		"--out", dead, "--out", "stdout")
	marked := make(chan struct{})
	var mark sync.Once
	go func() { // read from the start: netlog serve's stdout waits for its reader
		for s.stdout.Scan() {
			if strings.Contains(s.stdout.Text(), "marker") {
				mark.Do(func() { close(marked) })
			}
		}
	}()
	h, err := netlog.NewDatagramHandler("udp", s.addrs["udp"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	log := slog.New(h)
	for i := range n {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	// Datagrams arrive in order: once a marker sent after them is
	// printed, netlog serve has taken (or the kernel dropped) them all.
	for waiting := true; waiting; {
		log.Info("marker")
		select {
		case <-marked:
			waiting = false
		case <-time.After(100 * time.Millisecond): // the marker itself may be dropped: send another
		}
	}
	m := scrape(t, "http://"+s.addrs["metrics"]+"/metrics")
	got := m["netlog_receive_records_total"]
	queued := m[`netlog_output_queued{output="`+dead+`"}`]
	dropped := m[`netlog_output_dropped_total{output="`+dead+`",reason="full"}`]
	if delivered := m[`netlog_output_delivered_total{output="stdout://"}`]; delivered != got || queued != buffer || dropped != got-buffer {
		t.Errorf("of %v records taken: stdout delivered %v; the dead output holds %v and dropped %v, want %d and %v",
			got, delivered, queued, dropped, buffer, got-buffer)
	}
	if got < buffer+1 {
		t.Errorf("netlog serve took %v of %d datagrams: too few to fill the dead output", got, n)
	}
	t.Logf("took %v of %d datagrams (the kernel dropped %v)", got, n+1, m["netlog_receive_kernel_drops_total"])
}

// eventually waits until cond holds, looking again every 20 ms, for up
// to two minutes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 2 minutes for %s", what) // cond may have logged why
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fileLines counts the lines of a growing file, reading only what was
// added since it last looked.
type fileLines struct {
	path  string
	off   int64
	lines int
}

// waitFor waits until the file has n lines, looking again each time it
// has grown, up to timeout; false if it did not get there.
func (f *fileLines) waitFor(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 1<<20)
	for f.lines < n {
		if time.Now().After(deadline) {
			return false
		}
		fh, err := os.Open(f.path)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		k, _ := fh.ReadAt(buf, f.off)
		fh.Close()
		f.off += int64(k)
		f.lines += strings.Count(string(buf[:k]), "\n")
		if k == 0 {
			time.Sleep(10 * time.Millisecond) // polls a file: nothing to wait on
		}
	}
	return true
}

// TestRelayStopsWithOutputDown: netlog serve stops on its signal even
// while a RELP session waits for an output that is down: after the drain
// the wait gives up (the record is not acknowledged), the output gets
// the drain again to deliver, and the record it could not deliver is
// reported.
func TestRelayStopsWithOutputDown(t *testing.T) {
	code, report, h := stopWithOutputDown(t, "syslog+relp://"+peer.FreePort(t, "tcp"), "never delivered")
	if code != 1 {
		t.Errorf("exit status %d, want 1 (a record not delivered)", code)
	}
	if !strings.Contains(report, "1 records not delivered") || !strings.Contains(report, "refused undelivered frame") {
		t.Errorf("netlog serve reported:\n%s", report)
	}
	if st := h.Stats(); st.Acknowledged != 0 {
		t.Errorf("%d records acknowledged", st.Acknowledged)
	}
}

// stopWithOutputDown runs netlog serve with the output out, whose
// destination is down, sends it the record msg over RELP, and stops it
// once the output has tried to connect (so the record is in). It
// returns netlog serve's exit status, what it printed from then on, and
// the sender, closed when the test ends.
func stopWithOutputDown(t *testing.T, out, msg string) (code int, report string, h netlog.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 1, "--tcp", "", "--udp", "", "--relp", "127.0.0.1:0", "--drain", "200ms", "--out", out)
	h = relpSender(t, s.addrs["relp"], 1)
	t.Cleanup(func() { h.Close(context.Background()) })
	slog.New(h).Info(msg)
	for !strings.Contains(s.errLine(t), "connect: connection refused") { // the output tried, so the record is in
	}
	cancel()
	code = <-s.exit
	var lines []string
	for l := range s.stderr {
		lines = append(lines, l)
	}
	return code, strings.Join(lines, "\n"), h
}

// TestRelayOutputFailover: netlog serve's output
// syslog+relp://nothing,rsyslog, whose first destination refuses
// connections, fails over to rsyslog after three failed connects: every
// record a RELP sender sends reaches rsyslog, and the metrics count one
// failover.
func TestRelayOutputFailover(t *testing.T) {
	const n = 100
	r := peer.StartRsyslog(t, "", "", "")
	out := "syslog+relp://" + peer.FreePort(t, "tcp") + "," + r.RELP
	rs := startRelay(t, "--out", out)
	h := relpSender(t, rs.relp, n)
	log := slog.New(h)
	for i := range n {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	missing, _, text := gapSummary(counts(r.All(), n))
	m := scrape(t, "http://"+rs.metrics+"/metrics")
	moves := func(kind string) float64 {
		return m[`netlog_output_switches_total{kind="`+kind+`",output="`+out+`"}`]
	}
	t.Logf("through an output that failed over: %s; failovers %v, failbacks %v", text, moves("failover"), moves("failback"))
	if missing != 0 || moves("failover") != 1 || moves("failback") != 0 {
		t.Errorf("%s; failovers %v, failbacks %v", text, moves("failover"), moves("failback"))
	}
}
