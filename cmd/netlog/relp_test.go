package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/relp"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/tlsclient"
)

// TestRELPSurvivesSIGKILL streams 200,000 records from the syslog handler
// over RELP (async) while netlog serve --relp is killed with SIGKILL and
// started again three times, after each quarter has arrived. Every record
// is in the union of the four outputs; the duplicates (records a killed
// server printed but could not acknowledge) are counted.
func TestRELPSurvivesSIGKILL(t *testing.T) {
	const n = 200_000
	bin := buildNetlog(t)
	var printed atomic.Int64
	kills := make(chan struct{}, 3)
	start := func(addr string) (counted, string) {
		return startCounted(t, bin, n, &printed, kills, "--tcp", "", "--udp", "", "--relp", addr)
	}

	first, addr := start("127.0.0.1:0")
	h, err := netlog.NewSyslogHandler("relp", addr, &netlog.SyslogOptions{Options: netlog.Options{
		Async:   &netlog.Async{MaxRecords: n, MaxBytes: 1 << 30},
		Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	outputs := make(chan []int, 4)
	last := make(chan counted, 1)
	go func() {
		r := first
		for range 3 {
			<-kills
			r.cmd.Process.Kill() // SIGKILL: no drain, no goodbye
			outputs <- <-r.out   // all it printed, before Wait closes the pipe
			r.cmd.Wait()
			r, _ = start(addr)
		}
		last <- r
	}()
	log := slog.New(h)
	for i := range n {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-last
	r.cmd.Process.Kill()
	outputs <- <-r.out
	r.cmd.Wait()
	close(outputs)

	seen := make([]int, n)
	runs := 0
	for got := range outputs {
		runs++
		for _, i := range got {
			seen[i]++
		}
		t.Logf("run %d printed %d records", runs, len(got))
	}
	missing, dups := 0, 0
	for _, c := range seen {
		if c == 0 {
			missing++
		}
		dups += max(c-1, 0)
	}
	t.Logf("over RELP with 3 SIGKILLs: %d records missing, %d duplicated; stats %+v", missing, dups, st)
	if missing != 0 {
		t.Errorf("%d of %d records missing", missing, n)
	}
	if st.Written != n || st.Dropped.Total() != 0 || st.Connects < 4 {
		t.Errorf("stats %+v", st)
	}
}

// TestRsyslogOmrelp: rsyslog forwards over RELP (omrelp) to netlog serve
// --relp; what logger sends to rsyslog comes out of netlog serve.
func TestRsyslogOmrelp(t *testing.T) {
	logger := peer.Path(t, "logger")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 1, "--tcp", "", "--udp", "", "--relp", "127.0.0.1:0", "--format", "json")
	host, port, _ := net.SplitHostPort(s.addrs["relp"])
	r := peer.StartRsyslog(t, "", "", "", `module(load="omrelp")`,
		fmt.Sprintf(`action(type="omrelp" target=%q port=%q template="RSYSLOG_SyslogProtocol23Format")`, host, port))
	_, tcpPort, _ := net.SplitHostPort(r.TCP)
	if out, err := exec.Command(logger, "-n", "127.0.0.1", "-P", tcpPort, "-T", "--octet-count", "--rfc5424",
		"--msgid", "ID9", "-t", "relayed", "-p", "local3.err", "through rsyslog").CombinedOutput(); err != nil {
		t.Fatalf("logger: %v: %s", err, out)
	}
	for {
		var m map[string]any
		if err := json.Unmarshal([]byte(s.line(t)), &m); err != nil {
			t.Fatal(err)
		}
		if m["appname"] == "probe" { // rsyslog's own readiness probes pass through too
			continue
		}
		if m["appname"] != "relayed" || m["msgid"] != "ID9" || m["facility"] != "local3" || m["severity"] != "err" ||
			!strings.Contains(m["msg"].(string), "through rsyslog") {
			t.Errorf("netlog serve printed %v", m)
		}
		break
	}
}

// TestRELPOverTLS: the syslog handler over RELP and verified, mutually
// authenticated TLS into netlog serve --relp-tls.
func TestRELPOverTLS(t *testing.T) {
	certs := testcert.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 1, "--tcp", "", "--udp", "", "--relp-tls", "127.0.0.1:0",
		"--tls-cert", certs.CertFile, "--tls-key", certs.KeyFile, "--tls-client-ca", certs.CAFile)
	client, err := tlsclient.New(&tls.Config{Certificates: []tls.Certificate{certs.Client}}, "")
	if err != nil {
		t.Fatal(err)
	}
	h, err := netlog.Open("syslog+relp+tls://"+s.addrs["relp+tls"]+"?name=secure&window=8&dial-timeout=1m&ca="+url.QueryEscape(certs.CAFile),
		&netlog.Options{TLS: client})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	handled := make(chan error, 1) // synchronous: Handle returns once netlog serve has printed and acknowledged
	go func() {
		handled <- h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelWarn, "acknowledged rec1.", 0))
	}()
	if l := s.line(t); !strings.Contains(l, "WARNING secure: acknowledged rec1.") {
		t.Errorf("printed %q", l)
	}
	if err := <-handled; err != nil {
		t.Fatal(err)
	}
}

// TestRELPPoisonMessage: a RELP server that answers 500 to one message
// of 1,000 (a poison message) and 200 to the rest. The async handler
// sends it again Retries times, then gives it up, counted in
// Dropped.Refused; the other 999 arrive once each, in order.
func TestRELPPoisonMessage(t *testing.T) {
	const n, poison, retries = 1000, 321, 3
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int, 2*n)
	var refusals atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRELPRefusing(c, fmt.Sprintf("rec%d.", poison), got, &refusals)
		}
	}()
	s, err := netlog.Open(fmt.Sprintf("syslog+relp://%s?async=true&window=16&relp-retries=%d", ln.Addr(), retries),
		&netlog.Options{Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
			Async: &netlog.Async{}})
	if err != nil {
		t.Fatal(err)
	}
	h := s
	log := slog.New(h)
	for i := range n {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	flushed := h.Flush(ctx)
	st := h.Stats()
	if err := h.Close(ctx); err != nil {
		t.Error(err)
	}
	if flushed != nil {
		t.Fatalf("flush: %v; stats %+v", flushed, st)
	}
	a := newArrivals(n)
	for len(got) > 0 {
		a.add(<-got)
	}
	a.seen[poison]++ // refused by design: must not count as missing
	if !a.ok(false) || a.seen[poison] != 1 {
		t.Errorf("%v; the poison message arrived %d times", a, a.seen[poison]-1)
	}
	if st.Enqueued != n || st.Written != n-1 || st.Dropped.Refused != 1 || st.Dropped.Total() != 1 || st.Pending != 0 {
		t.Errorf("stats %+v", st)
	}
	if r := refusals.Load(); r != retries+1 {
		t.Errorf("the poison message was refused %d times, want %d", r, retries+1)
	}
}

// serveRELPRefusing answers a RELP session, refusing with 500 every
// message that contains poison and sending the record number of every
// other one to got.
func serveRELPRefusing(c net.Conn, poison string, got chan<- int, refusals *atomic.Int64) {
	defer c.Close()
	rd := relp.NewReader(c, 1<<20)
	var out []byte
	for {
		f, err := rd.Next()
		if err != nil {
			return
		}
		answer := relp.OK
		switch {
		case f.Command == "open":
			answer = relp.OK + "\n" + relp.Offers
		case f.Command == "close":
			answer = ""
		case strings.Contains(string(f.Data), poison):
			answer = "500 poison"
			refusals.Add(1)
		default:
			m := recordNo.FindSubmatch(f.Data)
			if m == nil {
				return
			}
			i, _ := strconv.Atoi(string(m[1]))
			got <- i
		}
		out = relp.Append(out[:0], f.Txnr, "rsp", []byte(answer))
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// TestSendSlowRELPPeer: netlog send over RELP to a server that
// acknowledges a message every 60 ms. Delivering the 60 records takes
// longer than --timeout, but records are acknowledged all along, so
// netlog send waits for them instead of reporting them as failed.
func TestSendSlowRELPPeer(t *testing.T) {
	const n = 60
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rd := relp.NewReader(c, 1<<20)
		for {
			f, err := rd.Next()
			if err != nil {
				return
			}
			answer := relp.OK
			switch f.Command {
			case "open":
				answer = relp.OK + "\n" + relp.Offers
			case "syslog":
				time.Sleep(60 * time.Millisecond) // a slow peer: what the test is about
			}
			if _, err := c.Write(relp.Append(nil, f.Txnr, "rsp", []byte(answer))); err != nil {
				return
			}
		}
	}()
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "rec%d.\n", i)
	}
	code, errs := sendCmd(t, in.String(), "--to", "syslog+relp://"+ln.Addr().String()+"?async=true", "--timeout", "2s")
	if m := summary.FindStringSubmatch(errs); code != 0 || m == nil || m[1] != fmt.Sprint(n) || m[2] != "0" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
