package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/netlog-go/netlog"
)

// The RELP suite (docs/benchmarks-relp.md): netlog's syslog handler over
// RELP into rsyslog's imrelp and into netlog serve --relp, beside the same
// handler over plain TCP into rsyslog's imtcp; and rsyslog's omrelp, fed
// over TCP by the same handler, into both RELP receivers. Every row sends
// the same records, theRecord n times, and counts the lines in the
// receiver's file.
//
//	cd bench && go run . -relp [-n 100000] [-only imrelp]

// relpRow is one row: a sender through a path into a receiver.
type relpRow struct {
	name     string
	receiver func(dir string) (*daemon, error) // the receiver whose file is counted
	input    kind                              // what the receiver takes, for its probe
	window   int                               // the RELP window of the netlog handler or omrelp; 0: the default
	network  string                            // the netlog handler's network
	// relay, if not nil, starts a relay that takes octet-counted syslog
	// over TCP from the handler and forwards it over RELP to the
	// receiver: rsyslog with omrelp, or netlog serve --out syslog+relp.
	relay func(dir, target string, window int) (*daemon, error)
}

func relpRows(bin string) []relpRow {
	serve := func(dir string) (*daemon, error) { return netlogServe(bin)(dir, relpTCP) }
	imrelp := func(dir string) (*daemon, error) { return rsyslog(dir, relpTCP) }
	imtcp := func(dir string) (*daemon, error) { return rsyslog(dir, octetTCP) }
	return []relpRow{
		{name: "netlog handler, TCP -> rsyslog imtcp", receiver: imtcp, input: octetTCP, network: "tcp"},
		{name: "netlog handler, RELP -> rsyslog imrelp", receiver: imrelp, input: relpTCP, network: "relp"},
		{name: "netlog handler, RELP window=128 -> rsyslog imrelp", receiver: imrelp, input: relpTCP, network: "relp", window: 128},
		{name: "netlog handler, RELP -> netlog serve --relp", receiver: serve, input: relpTCP, network: "relp"},
		{name: "netlog handler, RELP window=128 -> netlog serve --relp", receiver: serve, input: relpTCP, network: "relp", window: 128},
		{name: "rsyslog omrelp -> netlog serve --relp", receiver: serve, input: relpTCP, network: "tcp", relay: omrelpRelay},
		{name: "rsyslog omrelp -> rsyslog imrelp", receiver: imrelp, input: relpTCP, network: "tcp", relay: omrelpRelay},
		{name: "rsyslog omrelp windowSize=1024 -> netlog serve --relp", receiver: serve, input: relpTCP, network: "tcp", relay: omrelpRelay, window: 1024},
		{name: "rsyslog omrelp windowSize=1024 -> rsyslog imrelp", receiver: imrelp, input: relpTCP, network: "tcp", relay: omrelpRelay, window: 1024},
		{name: "netlog serve --out syslog+relp -> rsyslog imrelp", receiver: imrelp, input: relpTCP, network: "tcp", relay: netlogRelay(bin, "")},
		{name: "netlog serve --out syslog+relp?spool=DIR -> rsyslog imrelp", receiver: imrelp, input: relpTCP, network: "tcp", relay: netlogRelay(bin, "?spool=")},
	}
}

// relpResult is one row's run.
type relpResult struct {
	row      relpRow
	received int64
	perSec   float64 // records/s, first record handled → last record in the file
	err      error
}

// relpSuite runs every row whose name contains only and prints the table.
func relpSuite(n int, only string) error {
	tmp, err := os.MkdirTemp("", "netlog-bench-relp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := buildNetlog(tmp)
	if err != nil {
		return err
	}
	in, err := generate(1) // the probes' record
	if err != nil {
		return err
	}
	var results []relpResult
	for _, r := range relpRows(bin) {
		if !strings.Contains(r.name, only) {
			continue
		}
		dir, err := os.MkdirTemp(tmp, "row-")
		if err != nil {
			return err
		}
		res := runRELPRow(r, dir, in, n)
		os.RemoveAll(dir)
		fmt.Fprintf(os.Stderr, "%-55s %9.0f records/s, lost %d%s\n", r.name, res.perSec, int64(n)-res.received, errText(res.err))
		results = append(results, res)
	}
	printRELP(n, results)
	for _, r := range results {
		if r.err != nil {
			return fmt.Errorf("%s: %w", r.row.name, r.err)
		}
	}
	return nil
}

// runRELPRow starts the row's receiver (and relay), waits until a probe
// has come through, then has the handler send n records and waits for
// them in the receiver's file.
func runRELPRow(r relpRow, dir string, in *inputs, n int) relpResult {
	res := relpResult{row: r}
	d, err := r.receiver(dir)
	if err != nil {
		res.err = err
		return res
	}
	defer d.stop()
	lines := &lineCounter{path: d.out}
	defer lines.close()
	if err := ready(d, r.input, in, lines); err != nil {
		res.err = fmt.Errorf("%w; the receiver printed:\n%s", err, d.stdioTail())
		return res
	}
	to := d.addr
	if r.relay != nil {
		relay, err := r.relay(filepath.Join(dir, "relay"), d.addr, r.window)
		if err != nil {
			res.err = err
			return res
		}
		defer relay.stop()
		// The relay's probe must come out of the receiver's file.
		if err := ready(&daemon{addr: relay.addr, out: d.out}, octetTCP, in, lines); err != nil {
			res.err = fmt.Errorf("through the relay: %w; it printed:\n%s", err, relay.stdioTail())
			return res
		}
		to = relay.addr
	}
	base := lines.n
	sent := make(chan error, 1)
	start := time.Now()
	go func() { sent <- handlerSend(r.network, to, r.window, n) }()
	last, err := awaitRecords(lines, base, int64(n), r.input, sent)
	res.received = lines.n - base
	if res.received > 0 {
		res.perSec = float64(res.received) / last.Sub(start).Seconds()
	}
	res.err = err
	return res
}

// handlerSend sends theRecord n times through netlog's asynchronous
// syslog handler on network to addr, with a queue that holds them all,
// and closes it once all are delivered (acknowledged, over RELP).
func handlerSend(network, addr string, window, n int) error {
	h, err := netlog.NewSyslogHandler(network, addr, &netlog.SyslogOptions{RELPWindow: window,
		Options: netlog.Options{Async: &netlog.Async{MaxRecords: n, MaxBytes: 1 << 30}}})
	if err != nil {
		return err
	}
	if err := handleN(h, n); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		return err
	}
	if st := h.Stats(); st.Written != uint64(n) {
		return fmt.Errorf("the handler wrote %d of %d records: %+v", st.Written, n, st)
	}
	return nil
}

// omrelpRelay runs an rsyslogd that takes octet-counted syslog over TCP
// (imtcp) and forwards each message with omrelp to target, with a window
// of window messages (0: omrelp's default, 128).
func omrelpRelay(dir, target string, window int) (*daemon, error) {
	opt := ""
	if window > 0 {
		opt = fmt.Sprintf(" windowSize=\"%d\"", window)
	}
	return rsyslogRelay(dir, "omrelp", fmt.Sprintf(`action(type="omrelp" target="127.0.0.1" port=%q template="RSYSLOG_SyslogProtocol23Format"%s)`, port(target), opt))
}

// rsyslogRelay runs an rsyslogd that takes octet-counted syslog over TCP
// (imtcp) and hands each message to action, an output module's action
// that forwards it (module is that output module, loaded unless it is
// built in).
func rsyslogRelay(dir, module, action string) (*daemon, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin, err := sbin("rsyslogd")
	if err != nil {
		return nil, err
	}
	addr, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	load := ""
	if module != "omfwd" { // built in
		load = fmt.Sprintf("module(load=%q)\n", module)
	}
	d := &daemon{addr: addr}
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
%sinput(type="imtcp" address="127.0.0.1" port=%q ruleset="relay")
ruleset(name="relay") {
  %s
}
`, dir, load, port(addr), action)
	file := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(context.Background(), bin, "-n", "-f", file, "-i", filepath.Join(dir, "rsyslog.pid"))
	return launch(cmd, d, dir, false)
}

// netlogRelay runs netlog serve as a relay: octet-counted syslog over
// TCP in (--syslog-tcp), out over RELP to target (--out syslog+relp://),
// each record acknowledged to nobody (TCP input) but delivered only once
// target acknowledged it. window is not used: the RELP output's window is
// the library's default, 1,024. spool, if not empty ("?spool="), gives the
// output a durable queue in dir/spool.
func netlogRelay(bin, spool string) func(dir, target string, window int) (*daemon, error) {
	return func(dir, target string, _ int) (*daemon, error) {
		out := "syslog+relp://" + target
		if spool != "" {
			out += spool + filepath.Join(dir, "spool")
		}
		return serveRelay(bin, dir, octetTCP, out)
	}
}

// serveRelay runs netlog serve taking input k and sending every record
// to the output URL out.
func serveRelay(bin, dir string, k kind, out string) (*daemon, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addr, err := listenAddr(k)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(context.Background(), bin, append(serveArgs(k, addr), "--out="+out)...)
	return launch(cmd, &daemon{addr: addr}, dir, false)
}

// printRELP prints the table, each row's rate also as a share of the
// plain TCP row's.
func printRELP(n int, rs []relpResult) {
	var tcp float64
	for _, r := range rs {
		if r.row.network == "tcp" && r.row.relay == nil {
			tcp = r.perSec
		}
	}
	fmt.Printf("%d records per row, %s, %d CPUs, %s\n\n", n, runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	fmt.Println("| sender -> receiver | records/s | of TCP into imtcp | lost |")
	fmt.Println("|---|---:|---:|---:|")
	for _, r := range rs {
		share := "–"
		if tcp > 0 {
			share = fmt.Sprintf("%.1f%%", 100*r.perSec/tcp)
		}
		fmt.Printf("| %s | %.0f | %s | %d%s |\n", r.row.name, r.perSec, share, int64(n)-r.received, errText(r.err))
	}
}
