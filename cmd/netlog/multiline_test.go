package main

import (
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"testing"

	"github.com/netlog-go/netlog/internal/peer"
)

// TestServeSyslogMultiline: logger sends a multi-line RFC 5424 message
// over TCP, LF-framed, its lines as they are. netlog serve prints it as
// one record and counts the joined lines in /metrics; with
// --syslog-multiline=false, one record per line.
func TestServeSyslogMultiline(t *testing.T) {
	logger := peer.Path(t, "logger")
	const text = "line one\nline two\n3 jobs failed"
	for _, c := range []struct {
		flag   string
		msgs   []string
		joined float64
	}{
		{"--syslog-multiline=true", []string{text}, 2},
		{"--syslog-multiline=false", []string{"line one", "line two", "3 jobs failed"}, 0},
	} {
		t.Run(c.flag, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := startServe(t, ctx, 2, "--tcp", "", "--udp", "", "--format", "json",
				"--syslog-tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0", c.flag)
			h, p, _ := net.SplitHostPort(s.addrs["syslog+tcp"])
			if out, err := exec.Command(logger, "-T", "-n", h, "-P", p, "-t", "multi", text).CombinedOutput(); err != nil {
				t.Fatalf("logger: %v\n%s", err, out)
			}
			for _, want := range c.msgs {
				var m map[string]any
				if err := json.Unmarshal([]byte(s.line(t)), &m); err != nil {
					t.Fatal(err)
				}
				if m["msg"] != want {
					t.Errorf("printed msg %q (%v), want %q", m["msg"], m["syslog_format"], want)
				}
			}
			metrics := scrape(t, "http://"+s.addrs["metrics"]+"/metrics")
			if got := metrics["netlog_receive_syslog_joined_lines_total"]; got != c.joined {
				t.Errorf("netlog_receive_syslog_joined_lines_total %v, want %v", got, c.joined)
			}
			if _, ok := metrics["netlog_receive_syslog_join_cuts_total"]; !ok {
				t.Error("no netlog_receive_syslog_join_cuts_total in /metrics")
			}
		})
	}
}
