package main

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	connsFlag = flag.String("conns", "1,8,64", "-receivers: TCP connections of each TCP row, comma-separated")
	ratesFlag = flag.String("udp-rates", "50000,200000", "-receivers: offered UDP rates, datagrams/s, comma-separated")
	idleFlag  = flag.Duration("idle", 20*time.Second, "-receivers: end a TCP row once no record has arrived for this long (UDP rows: a tenth of it)")
	keepFlag  = flag.String("keep", "", "-receivers: keep each row's directory (configuration, output, what the receiver printed) under this directory")
)

// row is one receiver's run on one input.
type row struct {
	receiver      string
	input         kind
	conns, rate   int     // rate: UDP rows' offered datagrams/s
	offered       float64 // UDP rows: the rate the sender achieved
	sent          int
	received      int64
	perSec        float64 // records/s, first byte sent → last record in the file
	lowest        float64 // of several rounds: the lowest records/s, and the highest
	highest       float64
	cpuPerRecord  float64 // µs of the receiver's user+system time per record
	peakRSS       int64   // KiB, VmHWM
	incomplete    bool    // a TCP row that stopped short (records lost)
	finding       error   // what a peer did to the senders (reset a connection, say)
	err           error   // the row could not run as it should
	receiverStdio string  // what the receiver printed, when the row failed or found something
}

func (r row) name() string {
	in := r.input.String()
	if r.input == udp {
		in += fmt.Sprintf(" %dk/s", r.rate/1000)
	} else {
		in += fmt.Sprintf(" x%d", r.conns)
	}
	return in + " -> " + r.receiver // ASCII: the chart's font has no other
}

// suite is a set of contestants run on the same generated inputs: the
// receiver suite, or the relay suite.
type suite struct {
	contestants func(netlogBin string) []contestant
	kinds       []kind // the inputs, in the table's order
	conns       string // the TCP loads, as -conns takes them
	column      string // the table's heading for a contestant
	chartTitle  string
}

// receivers runs every receiver on every input it takes, rounds times,
// and prints the table; the chart goes to chartPath unless it is empty.
func receivers(n, rounds int, only, chartPath string) error {
	return runSuite(suite{
		contestants: contestants,
		kinds:       []kind{octetTCP, lfTCP, udp, pickleTCP, relpTCP},
		conns:       *connsFlag,
		column:      "receiver",
		chartTitle:  "records/s into a file (higher is better); ",
	}, n, rounds, only, chartPath)
}

// runSuite runs every contestant of s on every input of s it takes,
// rounds times, and prints the table of each row's median round; the
// chart goes to chartPath unless it is empty.
func runSuite(s suite, n, rounds int, only, chartPath string) error {
	if rounds < 1 {
		return errNoRounds
	}
	conns, err := ints(s.conns)
	if err != nil {
		return fmt.Errorf("-conns: %w", err)
	}
	rates, err := ints(*ratesFlag)
	if err != nil {
		return fmt.Errorf("-udp-rates: %w", err)
	}
	tmp, err := os.MkdirTemp(*keepFlag, "netlog-bench-")
	if err != nil {
		return err
	}
	if *keepFlag == "" {
		defer os.RemoveAll(tmp)
	}
	bin, err := buildNetlog(tmp)
	if err != nil {
		return err
	}
	in, err := generate(n)
	if err != nil {
		return err
	}
	rows, err := runRows(plan(s.contestants(bin), s.kinds, n, only, conns, rates), in, tmp, rounds)
	if err != nil {
		return err
	}
	of := ""
	if rounds > 1 {
		of = fmt.Sprintf(", each row's median of %d rounds", rounds)
	}
	caption := fmt.Sprintf("%d records per row%s, %s, %d CPUs, %s", n, of, runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	printRows(os.Stdout, caption, s.column, rows, rounds)
	if chartPath != "" {
		bars := make([]result, len(rows))
		for i, r := range rows {
			bars[i] = result{name: r.name(), delivered: r.perSec}
		}
		if err := drawChart(chartPath, s.chartTitle, caption, bars); err != nil {
			return fmt.Errorf("chart: %w", err)
		}
	}
	for _, r := range rows {
		if r.err != nil {
			return fmt.Errorf("%s: %w", r.name(), r.err)
		}
	}
	return nil
}

// A planned row is one to run, by the contestant that runs it.
type planned struct {
	row
	c contestant
}

// plan lists the rows to run: every input of kinds, at each of its loads,
// into every contestant that takes it, whose name contains only.
func plan(cs []contestant, kinds []kind, n int, only string, conns, rates []int) []planned {
	var rows []planned
	for _, k := range kinds {
		loads := conns
		if k == udp {
			loads = rates
		}
		for _, load := range loads {
			for _, c := range cs {
				r := row{receiver: c.name, input: k, conns: load, sent: n}
				if k == udp {
					r.conns, r.rate = 1, load
				}
				if supports(c, k) && strings.Contains(r.name(), only) {
					rows = append(rows, planned{r, c})
				}
			}
		}
	}
	return rows
}

// runRows runs every planned row once a round, one directory under tmp
// each, reports each run on stderr as it ends, and returns each row's
// median run (medianRun). A run of every row in turn, rather than all
// of a row's runs together, spreads what else the machine does over
// the rows alike.
func runRows(rows []planned, in *inputs, tmp string, rounds int) ([]row, error) {
	runs := make([][]row, len(rows))
	for round := range rounds {
		for i, p := range rows {
			r := p.row
			dir, err := os.MkdirTemp(tmp, "row-")
			if err != nil {
				return nil, err
			}
			measure(&r, p.c, dir, in)
			if *keepFlag == "" {
				os.RemoveAll(dir)
			}
			of := ""
			if rounds > 1 {
				of = fmt.Sprintf("%d/%d ", round+1, rounds)
			}
			fmt.Fprintf(os.Stderr, "%s%-55s %9.0f records/s %6.1f µs/record %7d KiB lost %d%s\n",
				of, r.name(), r.perSec, r.cpuPerRecord, r.peakRSS, int64(r.sent)-r.received, r.remark())
			if r.receiverStdio != "" {
				fmt.Fprintf(os.Stderr, "  the receiver printed:\n%s\n", r.receiverStdio)
			}
			runs[i] = append(runs[i], r)
		}
	}
	median := make([]row, len(rows))
	for i, rs := range runs {
		median[i] = medianRun(rs)
	}
	return median, nil
}

// medianRun is the run of rs with the median records/s (the lower middle
// one of an even count), whole, so that its columns are of one run,
// except its peak RSS: the highest of every run's. A run that failed is
// returned instead, the first one.
func medianRun(rs []row) row {
	if i := slices.IndexFunc(rs, func(r row) bool { return r.err != nil }); i >= 0 {
		return rs[i]
	}
	sorted := slices.SortedFunc(slices.Values(rs), func(a, b row) int { return cmp.Compare(a.perSec, b.perSec) })
	m := sorted[(len(sorted)-1)/2]
	m.lowest, m.highest = sorted[0].perSec, sorted[len(sorted)-1].perSec
	for _, r := range rs {
		m.peakRSS = max(m.peakRSS, r.peakRSS)
	}
	return m
}

// remark is what the lost column adds: an error, or that a TCP row
// stopped short.
func (r row) remark() string {
	switch {
	case r.err != nil:
		return errText(r.err)
	case r.finding != nil:
		return errText(r.finding)
	case r.incomplete:
		return fmt.Sprintf(" (none for %v)", *idleFlag)
	}
	return ""
}

// printRows prints the table, column heading the contestants' column;
// over several rounds, with each row's range of records/s.
func printRows(w io.Writer, caption, column string, rows []row, rounds int) {
	fmt.Fprintf(w, "%s\n\n", caption)
	ranges, rangeRule := "", ""
	if rounds > 1 {
		ranges, rangeRule = fmt.Sprintf(" records/s, lowest–highest of %d rounds |", rounds), "---:|"
	}
	fmt.Fprintf(w, "| input | conns / offered | %s | records/s |%s CPU µs per record | peak RSS MiB | lost |\n", column, ranges)
	fmt.Fprintf(w, "|---|---:|---|---:|%s---:|---:|---:|\n", rangeRule)
	for _, r := range rows {
		load := strconv.Itoa(r.conns)
		if r.input == udp {
			load = fmt.Sprintf("%.0f/s", r.offered)
		}
		spread := ""
		if rounds > 1 {
			spread = fmt.Sprintf(" %.0f–%.0f |", r.lowest, r.highest)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.0f |%s %.1f | %.1f | %d%s |\n", r.input, load, r.receiver,
			r.perSec, spread, r.cpuPerRecord, float64(r.peakRSS)/1024, int64(r.sent)-r.received, r.remark())
	}
}

// measure starts c for r's input, waits until a probe record is in its
// file, sends the row's records and waits for them to be in the file too.
func measure(r *row, c contestant, dir string, in *inputs) {
	d, err := c.start(dir, r.input)
	if err != nil {
		r.err = err
		return
	}
	defer d.stop()
	fail := func(err error) { r.err, r.receiverStdio = err, d.stdioTail() }
	lines, err := d.counter()
	if err != nil {
		fail(err)
		return
	}
	defer lines.close()
	if err := ready(d, r.input, in, lines); err != nil {
		fail(err)
		return
	}
	base := lines.records()
	cpu0, err := cpuTicks(d.cmd.Process.Pid)
	if err != nil {
		fail(err)
		return
	}
	sent := make(chan error, 1)
	start := time.Now()
	var senders sync.WaitGroup
	senders.Go(func() { sent <- send(r, d.addr, in) })
	last, err := awaitRecords(lines, base, int64(r.sent), r.input, sent)
	senders.Wait() // the last records may be in the file before the senders return
	r.received = lines.records() - base
	// Losing datagrams is what a UDP row measures, and a peer losing
	// records over TCP, or resetting a sender's connection, is a finding;
	// netlog serve doing either is a failure.
	r.incomplete = r.input != udp && r.received < int64(r.sent)
	if !strings.HasPrefix(r.receiver, "netlog serve") {
		r.finding, err = err, nil
		if r.finding != nil || r.incomplete {
			r.receiverStdio = d.stdioTail()
		}
	} else if r.incomplete {
		err = errors.Join(err, fmt.Errorf("%d of %d records over TCP after %v without one", r.received, r.sent, *idleFlag))
	}
	if r.received > 0 {
		r.perSec = float64(r.received) / last.Sub(start).Seconds()
	}
	cpu1, cerr := cpuTicks(d.cmd.Process.Pid)
	r.peakRSS, _ = peakRSS(d.cmd.Process.Pid)
	if r.received > 0 && cerr == nil {
		r.cpuPerRecord = float64(cpu1-cpu0) * 1e6 / clockTicks / float64(r.received)
	}
	if err == nil {
		err = cerr
	}
	if err != nil {
		fail(err)
	}
}

// send sends r's records to addr; a UDP row notes the rate it achieved.
func send(r *row, addr string, in *inputs) error {
	switch r.input {
	case octetTCP:
		return sendStream(addr, &in.octet, r.sent, r.conns)
	case lfTCP:
		return sendStream(addr, &in.lf, r.sent, r.conns)
	case pickleTCP:
		return sendStream(addr, &in.pickles, r.sent, r.conns)
	case relpTCP:
		return sendRELP(addr, &in.msgs, r.sent, r.conns)
	}
	var err error
	r.offered, err = sendUDP(addr, &in.msgs, r.sent, r.rate)
	return err
}

// ready probes the daemon until one record has reached its destination (20 s at
// most: no receiver has a readiness signal). A UDP probe may be lost, so
// it is sent again every 100 ms; once one is through, ready waits for the
// file to stay the same for half a second, so that no late probe counts
// as a record of the row.
func ready(d *daemon, k kind, in *inputs, lines counter) error {
	deadline := time.Now().Add(20 * time.Second)
	var probed, lastProbe time.Time
	for time.Now().Before(deadline) {
		if probed.IsZero() || k == udp && time.Since(lastProbe) > 100*time.Millisecond {
			if probe(k, d.addr, in) == nil {
				probed = time.Now()
			}
			lastProbe = time.Now()
		}
		if _, err := lines.update(); err != nil {
			return err
		}
		if lines.records() > 0 {
			return settle(lines)
		}
		time.Sleep(20 * time.Millisecond) // polling a file: it gives no signal
	}
	return fmt.Errorf("no probe record in %s within 20 s (a probe was sent: %v)", d.out, !probed.IsZero())
}

// settle returns once no record has come for half a second.
func settle(lines counter) error {
	for quiet := time.Now(); time.Since(quiet) < 500*time.Millisecond; time.Sleep(20 * time.Millisecond) {
		grew, err := lines.update()
		if err != nil {
			return err
		}
		if grew {
			quiet = time.Now()
		}
	}
	return nil
}

// awaitRecords polls the destination until want records more than base
// are in it, or, once the senders are done, until none has come for the idle
// time (records lost). It returns when the last record was seen and the
// senders' error.
func awaitRecords(lines counter, base, want int64, k kind, sent <-chan error) (time.Time, error) {
	idle := *idleFlag
	if k == udp {
		idle /= 10
	}
	var sendErr error
	var done bool
	last := time.Now() // the last record seen
	quiet := last      // since when nothing has come or been sent
	for {
		grew, err := lines.update()
		if err != nil {
			return last, err
		}
		now := time.Now()
		if grew {
			last, quiet = now, now
		}
		if lines.records()-base >= want {
			return last, sendErr
		}
		if !done {
			select {
			case sendErr = <-sent:
				done, quiet = true, now
			default:
			}
		}
		if done && now.Sub(quiet) > idle {
			return last, sendErr
		}
		time.Sleep(2 * time.Millisecond) // polling a file: it gives no signal
	}
}

// A counter counts the records at a destination as they arrive.
type counter interface {
	update() (grew bool, err error) // counts the records that came since the last call
	records() int64
	close()
}

// lineCounter counts the records in the complete lines of a file as it
// grows: a line each, unless recordsIn, given whole lines, says how many.
type lineCounter struct {
	path      string
	recordsIn func(lines []byte) int64
	f         *os.File
	off       int64
	n         int64
	buf       []byte
}

func (c *lineCounter) records() int64 { return c.n }

// update counts the lines added since the last call.
func (c *lineCounter) update() (grew bool, err error) {
	if c.f == nil {
		if c.f, err = os.Open(c.path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return false, nil // not written yet
			}
			return false, err
		}
		c.buf = make([]byte, 1<<20)
	}
	for {
		m, rerr := c.f.ReadAt(c.buf, c.off)
		// Count complete lines only: a writer may be mid-line.
		end := bytes.LastIndexByte(c.buf[:m], '\n') + 1
		if end == 0 && m == len(c.buf) { // a line longer than the buffer
			c.buf = make([]byte, 2*len(c.buf))
			continue
		}
		k := c.count(c.buf[:end])
		c.n += k
		c.off += int64(end)
		grew = grew || k > 0
		if rerr == io.EOF || m < len(c.buf) {
			return grew, nil
		}
		if rerr != nil {
			return grew, rerr
		}
	}
}

// count counts the records in lines, complete lines.
func (c *lineCounter) count(lines []byte) int64 {
	if c.recordsIn == nil {
		return int64(bytes.Count(lines, []byte{'\n'}))
	}
	return c.recordsIn(lines)
}

func (c *lineCounter) close() {
	if c.f != nil {
		c.f.Close()
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on Linux.
const clockTicks = 100

// cpuTicks is the process's user+system time (all threads), in ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return utime + stime, nil
}

// peakRSS is the process's VmHWM, in KiB.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q: want positive numbers", s)
		}
		out = append(out, v)
	}
	return out, nil
}
