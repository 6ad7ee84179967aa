package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/latency"
)

// The durable suite (docs/durable-queue.md, "Benchmarks"): netlog's
// asynchronous socket handler (TCP, pickle) with the memory queue, and
// with the durable queue under each fsync policy and in memory-first
// mode, each sending theRecord n times to one counting receiver. Each
// run is a program of its own (this one, started again with
// -durable-sender), as a program that logs is: its own heap, its own
// queue directory. The modes take turns for -rounds rounds, each round
// in a rotated order, and each mode's rate is also given as a share of
// the memory queue's in the same round, so that a shared machine's drift
// falls on both sides of the ratio alike.
//
//	cd bench && go run . -durable [-n 1000000] [-rounds 3] [-only fsync] [-cpuprofile prefix]

var (
	roundsFlag = flag.Int("rounds", 3, "rounds, each running every mode (-durable) or row (-receivers, -relay: 1 unless given) once; the table shows medians")
	senderFlag = flag.String("durable-sender", "", "used by -durable: send -n records to this netlog URL and print the run as JSON")
)

// durableMode is one way of queueing: the URL parameters it adds.
type durableMode struct {
	name  string
	query string // DIR stands for a fresh directory
}

// durableModes are the rows, the memory queue first (the others'
// reference). Every queue holds all the records: none may be dropped.
var durableModes = []durableMode{
	{"memory queue", "async=true"},
	{"durable, fsync every batch", "spool=DIR&fsync=batch"},
	{"durable, fsync every 10 ms", "spool=DIR&fsync=10ms"},
	{"durable, fsync never", "spool=DIR&fsync=never"},
	{"durable, memory-first 16 MiB", "spool=DIR&memory-first=16MiB"},
	// A burst that the destination cannot take as fast as Handle queues
	// it outgrows 16 MiB: this bound holds all of one.
	{"durable, memory-first 1 GiB", "spool=DIR&memory-first=1GiB"},
}

// holdAll are the queue bounds every mode gets.
const holdAll = "&buffer=16777216&buffer-bytes=4GiB"

// senderRun is what one sender program reports.
type senderRun struct {
	Start    int64   // UnixNano just before the first Handle
	HandleNs float64 // the caller's mean Handle, ns
	Quantile []int64 // Handle's p50, p99, p999 (latency.Quantiles), ns
	Samples  int     // Handle calls timed
	// PeakQueued is the most bytes seen queued (every 4,096 records):
	// past Async.MemoryFirst, memory-first mode writes to its directory.
	PeakQueued uint64
	// Delivered is records/s from Start to the receiver's last record,
	// and CPUNs the sender program's user and system CPU time per record
	// (its whole life: the figure a busy machine disturbs least); the
	// suite fills them in.
	Delivered, CPUNs float64
}

// durableSuite runs every mode whose name contains only, rounds times,
// and prints the table. profile, if set, is the prefix of each mode's CPU
// profile (its last round's).
func durableSuite(n, rounds int, only, profile string) error {
	var modes []durableMode
	for _, m := range durableModes {
		if strings.Contains(m.name, only) {
			modes = append(modes, m)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "netlog-bench-durable-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	recv, err := listenStream(lengthPrefix)
	if err != nil {
		return err
	}
	defer recv.close()
	runs := make([][]senderRun, len(modes)) // by mode, then round
	for round := range rounds {
		for k := range modes {
			i := (k + round) % len(modes) // no mode always goes first
			run, err := runSender(exe, recv, modes[i], n, filepath.Join(tmp, fmt.Sprint(round, "-", i)), profileName(profile, i))
			if err != nil {
				return fmt.Errorf("%s: %w", modes[i].name, err)
			}
			fmt.Fprintf(os.Stderr, "round %d: %-30s %10.0f records/s delivered, %5.0f ns CPU/record, Handle p99 %d ns\n", round+1, modes[i].name, run.Delivered, run.CPUNs, run.Quantile[1])
			runs[i] = append(runs[i], run)
		}
	}
	printDurable(n, rounds, modes, runs)
	return nil
}

// profileName is mode i's CPU profile, or "" for none.
func profileName(prefix string, i int) string {
	if prefix == "" {
		return ""
	}
	return fmt.Sprintf("%s.%d.pprof", prefix, i)
}

// runSender runs one sender program in mode m, its queue directory (if
// any) being dir, and waits for its n records at recv.
func runSender(exe string, recv *receiver, m durableMode, n int, dir, profile string) (senderRun, error) {
	var run senderRun
	base := recv.count.Load()
	recv.last.Store(0)
	target := "tcp://" + recv.addr + "?" + strings.ReplaceAll(m.query, "DIR", url.QueryEscape(dir)) + holdAll
	cmd := exec.CommandContext(context.Background(), exe, "-durable-sender", target, "-n", fmt.Sprint(n), "-cpuprofile", profile)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return run, fmt.Errorf("the sender program: %w", err)
	}
	if err := json.Unmarshal(out, &run); err != nil {
		return run, fmt.Errorf("the sender program printed %q: %w", out, err)
	}
	// The sender closed its handler, so every record is on its way; the
	// idle limit only ends the wait if the receiver stopped counting.
	recv.wait(base+int64(n), 10*time.Second)
	if got := recv.count.Load() - base; got != int64(n) {
		return run, fmt.Errorf("%d of %d records arrived", got, n)
	}
	run.Delivered = float64(n) / time.Duration(recv.last.Load()-run.Start).Seconds()
	run.CPUNs = float64(cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime()) / float64(n)
	os.RemoveAll(dir)
	return run, nil
}

// durableSender is the sender program: it handles theRecord n times
// through Open(target), timing about one Handle in latency.Every, closes
// the handler and prints a senderRun as JSON.
func durableSender(target string, n int, profile string) error {
	h, err := netlog.Open(target, nil)
	if err != nil {
		return err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	var lat latency.Sampler
	var peak uint64
	runtime.GC()
	start := time.Now()
	for i := range n {
		if i%4096 == 0 {
			peak = max(peak, h.Stats().PendingBytes)
		}
		if err := lat.Handle(ctx, h, theRecord); err != nil {
			return err
		}
	}
	run := senderRun{Start: start.UnixNano(), HandleNs: float64(time.Since(start)) / float64(n), Samples: lat.Len(), PeakQueued: peak}
	if err := closeWithin(h); err != nil {
		return err
	}
	if st := h.Stats(); st.Written != uint64(n) {
		return fmt.Errorf("the handler wrote %d of %d records: %+v", st.Written, n, st)
	}
	for _, q := range latency.Quantiles {
		run.Quantile = append(run.Quantile, int64(lat.Quantile(q.Q)))
	}
	return json.NewEncoder(os.Stdout).Encode(run)
}

// printDurable prints each mode's medians over the rounds.
func printDurable(n, rounds int, modes []durableMode, runs [][]senderRun) {
	fmt.Printf("%d records per run, %d round(s), the socket handler (TCP, pickle) to one loopback receiver, %s, %d CPUs, %s\n\n",
		n, rounds, runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	fmt.Println("| queue | records/s delivered | of the memory queue (rounds' range) | sender CPU ns/record | Handle mean ns | p50 ns | p99 ns | p999 ns | peak queued MiB |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	memory := slices.IndexFunc(modes, func(m durableMode) bool { return m.name == durableModes[0].name })
	for i, m := range modes {
		field := func(f func(senderRun) float64) float64 { return median(runs[i], f) }
		share := "–"
		if memory >= 0 {
			var ratios []float64
			for r := range runs[i] {
				ratios = append(ratios, runs[i][r].Delivered/runs[memory][r].Delivered)
			}
			slices.Sort(ratios)
			share = fmt.Sprintf("%.1f%% (%.1f–%.1f%%)", 100*ratios[len(ratios)/2], 100*ratios[0], 100*ratios[len(ratios)-1])
		}
		fmt.Printf("| %s | %.0f | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f |\n", m.name, field(func(r senderRun) float64 { return r.Delivered }), share,
			field(func(r senderRun) float64 { return r.CPUNs }), field(func(r senderRun) float64 { return r.HandleNs }), field(func(r senderRun) float64 { return float64(r.Quantile[0]) }),
			field(func(r senderRun) float64 { return float64(r.Quantile[1]) }), field(func(r senderRun) float64 { return float64(r.Quantile[2]) }),
			field(func(r senderRun) float64 { return float64(r.PeakQueued) / (1 << 20) }))
	}
}

// median is the median of f over runs (the upper one of an even count).
func median(runs []senderRun, f func(senderRun) float64) float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// errNoRounds refuses -rounds below 1.
var errNoRounds = errors.New("-rounds must be at least 1")
