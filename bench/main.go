// Command bench runs netlog and its peers side by side on this machine:
// the same records (a message and five attributes), the same number of
// them, to the same loopback receiver counting what arrives. It prints a
// markdown table and writes a PNG bar chart.
//
//	cd bench && go run . [-n 1000000] [-chart chart.png]
//
// With -receivers it measures receivers instead (docs/benchmarks-receiver.md):
// the same generated input into netlog serve, rsyslog, syslog-ng and
// Python's logging-cookbook receiver, each writing a file.
//
//	cd bench && go run . -receivers [-n 1000000] [-rounds 1] [-conns 1,8,64] [-udp-rates 50000,200000] [-chart receivers.png]
//
// With -rounds R, R > 1, it runs every row R times, one round after
// another, and shows each row's median round, with the range of the
// rounds' records/s (and, as the peak RSS, the highest of them); so does
// -relay.
//
// With -relp it runs the RELP suite (docs/benchmarks-relp.md): netlog's
// syslog handler over RELP into rsyslog's imrelp and netlog serve --relp,
// beside the same handler over TCP into imtcp, and rsyslog's omrelp into
// both (-n defaults to 100,000 there).
//
//	cd bench && go run . -relp [-n 100000] [-only imrelp]
//
// With -relay it runs the relay suite (docs/benchmarks-relay.md): the
// receiver suite's inputs into netlog serve with a file, RELP, TCP, Kafka
// or OTLP output and into rsyslog doing the first three with omfile,
// omrelp or omfwd, counted at the destination.
//
//	cd bench && go run . -relay [-n 1000000] [-rounds 1] [-conns 1,8] [-only relp] [-chart relay.png]
//
// With -durable it runs the durable-queue suite (docs/durable-queue.md):
// netlog's asynchronous socket handler with the memory queue beside the
// durable queue under each fsync policy and in memory-first mode, each
// run a sender program of its own, to one receiver, in alternating
// rounds; -cpuprofile is then the prefix of each mode's profile.
//
//	cd bench && go run . -durable [-n 1000000] [-rounds 3] [-only fsync] [-cpuprofile prefix]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

// A contender sends n records to addr and returns when its API says it
// is done (an asynchronous handler: once it has flushed and closed).
type contender struct {
	name    string
	network string // "tcp" or "udp"
	framing framing
	send    func(addr string, n int) error
}

// theRecord is the record every Go contender handles: a message and five
// attributes. It is built once and given to each handler's Handle, so
// that slog.Logger's own front end (runtime.Callers, time.Now and the
// conversion of arguments, the same for every slog handler) stays out of
// the comparison.
var theRecord = func() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "user logged in", 0)
	r.AddAttrs(slog.String("user", "alice"), slog.Int("id", 42), slog.Bool("ok", true),
		slog.Duration("latency", 1500*time.Microsecond), slog.String("path", "/api/v1/login"))
	return r
}()

// senders is how many goroutines share a contender's records.
var senders = flag.Int("goroutines", 1, "goroutines sending each contender's records")

// handleN gives theRecord to h n times, from the sending goroutines.
func handleN(h slog.Handler, n int) error {
	ctx := context.Background()
	errs := make(chan error, *senders)
	for g := range *senders {
		go func() {
			share := n / *senders
			if g == 0 {
				share += n % *senders
			}
			for range share {
				if err := h.Handle(ctx, theRecord); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range *senders {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// result is one contender's run.
type result struct {
	name              string
	sent, delivered   float64 // records/s: by the sender's clock, and until the last arrival
	received          int64
	err               error
	vsSyslog, vsLimit float64
}

func main() {
	n := flag.Int("n", 1_000_000, "records per contender")
	chart := flag.String("chart", "chart.png", "PNG bar chart to write; empty for none")
	only := flag.String("only", "", "run only the contenders whose name contains this")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	recv := flag.Bool("receivers", false, "run the receiver suite instead: the same input into netlog serve, rsyslog, syslog-ng and Python's cookbook receiver")
	relpFlag := flag.Bool("relp", false, "run the RELP suite instead: netlog's RELP handler and rsyslog's omrelp into rsyslog imrelp and netlog serve --relp, beside TCP into imtcp")
	relay := flag.Bool("relay", false, "run the relay suite instead: netlog serve --out file, syslog+relp and syslog+tcp beside rsyslog's omfile, omrelp and omfwd, and --out kafka and otlp+http, counted at the destination")
	durable := flag.Bool("durable", false, "run the durable-queue suite instead: the async socket handler with the memory queue beside the durable queue under each fsync policy and memory-first")
	flag.Parse()
	if *senderFlag != "" {
		if err := durableSender(*senderFlag, *n, *profile); err != nil {
			fmt.Fprintln(os.Stderr, "durable sender:", err)
			os.Exit(1)
		}
		return
	}
	if *durable {
		err := errNoRounds
		if *roundsFlag >= 1 {
			err = durableSuite(*n, *roundsFlag, *only, *profile)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "durable:", err)
			os.Exit(1)
		}
		return
	}
	if *relay {
		if *chart == "chart.png" {
			*chart = "relay.png"
		}
		if err := runSuite(relaySuite(isSet("conns")), *n, suiteRounds(), *only, *chart); err != nil {
			fmt.Fprintln(os.Stderr, "relay:", err)
			os.Exit(1)
		}
		return
	}
	if *relpFlag {
		if !isSet("n") {
			*n = 100_000
		}
		if err := relpSuite(*n, *only); err != nil {
			fmt.Fprintln(os.Stderr, "relp:", err)
			os.Exit(1)
		}
		return
	}
	if *recv {
		if *chart == "chart.png" {
			*chart = "receivers.png"
		}
		if err := receivers(*n, suiteRounds(), *only, *chart); err != nil {
			fmt.Fprintln(os.Stderr, "receivers:", err)
			os.Exit(1)
		}
		return
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpuprofile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	var results []result
	for _, c := range contenders() {
		if !strings.Contains(c.name, *only) {
			continue
		}
		r := run(c, *n)
		fmt.Fprintf(os.Stderr, "%-45s %12.0f records/s delivered, %d received %v\n", r.name, r.delivered, r.received, errText(r.err))
		results = append(results, r)
	}
	ratios(results)
	caption := fmt.Sprintf("%d records each, %d goroutine(s) calling Handle, %s, %d CPUs, %s", *n, *senders, runtime.Version(), runtime.NumCPU(), time.Now().Format("2006-01-02"))
	fmt.Printf("%s\n\n", caption)
	fmt.Println("| contender | records/s sent | records/s delivered | received | × log/syslog (same transport) | of batched bare writer |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, r := range results {
		fmt.Printf("| %s | %.0f | %.0f | %d%s | %s | %.1f%% |\n", r.name, r.sent, r.delivered, r.received, errText(r.err), times(r.vsSyslog), 100*r.vsLimit)
	}
	if *chart != "" {
		if err := drawChart(*chart, "records/s delivered to a loopback receiver (higher is better); ", caption, results); err != nil {
			fmt.Fprintln(os.Stderr, "chart:", err)
		}
	}
}

// suiteRounds is -rounds for the receiver and relay suites: one unless
// it is given.
func suiteRounds() int {
	if !isSet("rounds") {
		return 1
	}
	return *roundsFlag
}

// isSet says whether the flag was given on the command line.
func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

func times(x float64) string {
	if x == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x)
}

// run starts a counting receiver, lets c send n records to it, and waits
// for them to arrive.
func run(c contender, n int) result {
	var r *receiver
	var err error
	if c.network == "udp" {
		r, err = listenPacket()
	} else {
		r, err = listenStream(c.framing)
	}
	if err != nil {
		return result{name: c.name, err: err}
	}
	defer r.close()
	runtime.GC()
	start := time.Now()
	err = c.send(r.addr, n)
	sent := time.Since(start)
	r.wait(int64(n), 2*time.Second)
	got := r.count.Load()
	delivered := time.Unix(0, r.last.Load()).Sub(start)
	res := result{name: c.name, sent: float64(n) / sent.Seconds(), received: got, err: err}
	if got > 0 {
		res.delivered = float64(got) / delivered.Seconds()
	}
	return res
}

// ratios fills each result's ratio to log/syslog on its transport and to
// the batched bare writer.
func ratios(rs []result) {
	find := func(prefix string) float64 {
		for _, r := range rs {
			if strings.HasPrefix(r.name, prefix) {
				return r.delivered
			}
		}
		return 0
	}
	limit := find("bare writer, batched")
	for i, r := range rs {
		peer := find("log/syslog TCP")
		if strings.Contains(r.name, "UDP") {
			peer = find("log/syslog UDP")
		}
		if peer > 0 && !strings.HasPrefix(r.name, "log/syslog") {
			rs[i].vsSyslog = r.delivered / peer
		}
		if limit > 0 {
			rs[i].vsLimit = r.delivered / limit
		}
	}
}

// python runs bench/py_sender.py: Python's own handlers sending n records.
func python(kind string) func(addr string, n int) error {
	return func(addr string, n int) error {
		host, port, _ := strings.Cut(addr, ":")
		cmd := exec.CommandContext(context.Background(), "python3", "py_sender.py", kind, host, port, fmt.Sprint(n))
		cmd.Stderr = os.Stderr
		return cmd.Run()
	}
}
