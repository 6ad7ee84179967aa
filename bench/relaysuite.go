package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The relay suite (docs/benchmarks-relay.md): the receiver suite's
// generated inputs into a relay, netlog serve with an --out or rsyslog
// with the output module that does the same job, counted at the
// destination: in its file, in the Kafka topic, in the OpenTelemetry
// Collector's file. A row's records/s run from its first byte sent to its
// last record at the destination; its CPU time and peak RSS are the
// relay's.
//
//	cd bench && go run . -relay [-n 1000000] [-conns 1,8] [-only relp]

// relayConns is the relay suite's -conns unless the flag is given.
const relayConns = "1,8"

// relaySuite is every relay on RFC 5424 octet-counted over TCP (what
// rsyslog's imtcp takes too) and on Python's pickles (netlog serve
// only).
func relaySuite(connsSet bool) suite {
	conns := relayConns
	if connsSet {
		conns = *connsFlag
	}
	return suite{
		contestants: relays,
		kinds:       []kind{octetTCP, pickleTCP},
		conns:       conns,
		column:      "relay -> destination",
		chartTitle:  "records/s at the relay's destination (higher is better); ",
	}
}

// relays pairs each netlog serve output with rsyslog doing the same job:
// writing a file, forwarding over RELP, forwarding over TCP; and runs
// netlog serve's Kafka and OTLP outputs, which rsyslog has no
// counterpart of here.
func relays(bin string) []contestant {
	both, syslogOnly := []kind{octetTCP, pickleTCP}, []kind{octetTCP}
	imrelp := func(dir string) (*daemon, error) { return rsyslog(dir, relpTCP) }
	imtcp := func(dir string) (*daemon, error) { return rsyslog(dir, octetTCP) }
	// serve runs netlog serve with the output URL format names with the
	// destination's address.
	serve := func(format string) func(dir string, k kind, target string) (*daemon, error) {
		return func(dir string, k kind, target string) (*daemon, error) {
			return serveRelay(bin, dir, k, fmt.Sprintf(format, target))
		}
	}
	omfwd := func(dir string, _ kind, target string) (*daemon, error) {
		return rsyslogRelay(dir, "omfwd", fmt.Sprintf(`action(type="omfwd" target="127.0.0.1" port=%q protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`, port(target)))
	}
	// omrelp at netlog's RELP window, 1,024: at its default, 128, it
	// stalls 40 ms a window (docs/benchmarks-relp.md).
	omrelp := func(dir string, _ kind, target string) (*daemon, error) { return omrelpRelay(dir, target, 1024) }
	return []contestant{
		{"netlog serve --out file", both, serveFile(bin)},
		{"rsyslog imtcp -> omfile", syslogOnly, rsyslog},
		{"netlog serve --out syslog+relp -> rsyslog imrelp", both, forwardTo(imrelp, serve("syslog+relp://%s"))},
		{"rsyslog omrelp windowSize=1024 -> rsyslog imrelp", syslogOnly, forwardTo(imrelp, omrelp)},
		{"netlog serve --out syslog+tcp -> rsyslog imtcp", both, forwardTo(imtcp, serve("syslog+tcp://%s"))},
		{"rsyslog omfwd TCP -> rsyslog imtcp", syslogOnly, forwardTo(imtcp, omfwd)},
		{"netlog serve --out kafka -> kfake", both, forwardTo(kafkaDest, serve("kafka://%s/"+benchTopic))},
		{"netlog serve --out otlp+http -> OpenTelemetry Collector", both, forwardTo(collectorDest, serve("otlp+http://%s"))},
	}
}

// serveFile runs netlog serve with a file output in dir (text, as the
// stdout output prints, one line a record).
func serveFile(bin string) func(dir string, k kind) (*daemon, error) {
	return func(dir string, k kind) (*daemon, error) {
		out := filepath.Join(dir, "out.log")
		d, err := serveRelay(bin, dir, k, "file://"+out)
		if err != nil {
			return nil, err
		}
		d.out = out
		return d, nil
	}
}

// forwardTo starts the destination in dir/dest, waits until it listens,
// then starts the relay in dir forwarding to it; the row counts the
// destination's file and measures the relay.
func forwardTo(dest func(dir string) (*daemon, error), relay func(dir string, k kind, target string) (*daemon, error)) func(dir string, k kind) (*daemon, error) {
	return func(dir string, k kind) (*daemon, error) {
		destDir := filepath.Join(dir, "dest")
		if err := os.MkdirAll(destDir, 0o755); err != nil {
			return nil, err
		}
		down, err := dest(destDir)
		if err != nil {
			return nil, err
		}
		if err := listening(down.addr, time.Minute); err != nil {
			down.stop()
			return nil, fmt.Errorf("%w; it printed:\n%s", err, down.stdioTail())
		}
		d, err := relay(dir, k, down.addr)
		if err != nil {
			down.stop()
			return nil, err
		}
		d.out, d.newCounter, d.downstream = down.out, down.newCounter, down
		return d, nil
	}
}

// listening returns once a TCP connection to addr succeeds: the
// destination must be up before a relay starts, or rsyslog's relays
// suspend the action for half a minute.
func listening(addr string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %v: %w", addr, wait, err)
		}
		time.Sleep(50 * time.Millisecond) // a daemon starting gives no signal
	}
}
