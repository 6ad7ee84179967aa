package main

import (
	"errors"
	"testing"
)

// TestMedianRun checks that a row over several rounds is its median run,
// whole but for the peak RSS (the highest of all), and that a failed run
// wins over any median.
func TestMedianRun(t *testing.T) {
	runs := []row{
		{perSec: 300, cpuPerRecord: 3, peakRSS: 10, received: 3},
		{perSec: 100, cpuPerRecord: 1, peakRSS: 30, received: 1},
		{perSec: 200, cpuPerRecord: 2, peakRSS: 20, received: 2},
	}
	m := medianRun(runs)
	if m.perSec != 200 || m.cpuPerRecord != 2 || m.received != 2 {
		t.Errorf("median run: %.0f records/s, %.0f µs, %d received; want the run of 200, 2, 2", m.perSec, m.cpuPerRecord, m.received)
	}
	if m.lowest != 100 || m.highest != 300 || m.peakRSS != 30 {
		t.Errorf("range %.0f–%.0f, peak RSS %d; want 100–300 and 30", m.lowest, m.highest, m.peakRSS)
	}
	if m := medianRun(runs[:2]); m.perSec != 100 {
		t.Errorf("of two runs: %.0f records/s, want the lower, 100", m.perSec)
	}
	failed := errors.New("no records")
	runs[2].err = failed
	if m := medianRun(runs); m.err != failed {
		t.Errorf("with a failed run: err %v, want %v", m.err, failed)
	}
}
