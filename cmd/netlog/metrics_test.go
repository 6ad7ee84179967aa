package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/netlog-go/netlog/internal/relay"
	"github.com/netlog-go/netlog/receive"
)

// TestMetricsTextFormat reads what writeMetrics writes with the
// Prometheus project's own parser (expfmt): every family comes with its
// help and type, a label value with a quote, a backslash and a line feed
// comes back as it was, and the counts are exact.
func TestMetricsTextFormat(t *testing.T) {
	out, err := relay.Open("stdout", &relay.Env{Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.New([]relay.Output{out}).Close(context.Background())
	odd := "tcp \"odd\\name\"\nline"
	st := receive.Stats{Frames: 1 << 40, Records: 7, MemoryUsed: 12345,
		Refused:   map[receive.Reason]uint64{receive.ReasonSlow: 3, receive.ReasonMalformed: 2},
		Listeners: map[string]receive.ListenerStats{odd: {Accepted: 5, Active: 2, AcceptErrors: 1}}}
	var b bytes.Buffer
	if err := writeMetrics(&b, st, []relay.Output{out}); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("%v in:\n%s", err, b.String())
	}
	if len(fams) != 23 {
		t.Errorf("%d families, want 23:\n%s", len(fams), b.String())
	}
	for name, f := range fams {
		if f.GetHelp() == "" || !strings.HasPrefix(name, "netlog_") {
			t.Errorf("family %s: help %q", name, f.GetHelp())
		}
	}
	value := func(name string, labels ...string) float64 {
		t.Helper()
		f := fams[name]
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				if !hasLabel(m.GetLabel(), labels[i], labels[i+1]) {
					continue next
				}
			}
			if f.GetType() == dto.MetricType_GAUGE {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
		t.Errorf("no %s%q in:\n%s", name, labels, b.String())
		return -1
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"netlog_receive_frames_total", nil, 1 << 40},
		{"netlog_receive_records_total", nil, 7},
		{"netlog_receive_memory_used_bytes", nil, 12345},
		{"netlog_receive_refused_total", []string{"reason", "slow"}, 3},
		{"netlog_receive_refused_total", []string{"reason", "malformed"}, 2},
		{"netlog_receive_connections_total", []string{"listener", odd}, 5},
		{"netlog_receive_connections_active", []string{"listener", odd}, 2},
		{"netlog_receive_accept_errors_total", []string{"listener", odd}, 1},
		{"netlog_output_switches_total", []string{"output", out.Name(), "kind", "failover"}, 0},
		{"netlog_output_queued", []string{"output", out.Name()}, 0},
	} {
		if got := value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%q = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Labels in the order of their names, as client_golang wrote them:
	// the tests that scrape look lines up by their text.
	if line := `netlog_output_switches_total{kind="failover",output="` + out.Name() + `"} 0` + "\n"; !strings.Contains(b.String(), line) {
		t.Errorf("no line %q in:\n%s", line, b.String())
	}
	if got := fams["netlog_receive_connections_active"].GetType(); got != dto.MetricType_GAUGE {
		t.Errorf("netlog_receive_connections_active is a %v, want a gauge", got)
	}
}

func hasLabel(ls []*dto.LabelPair, name, value string) bool {
	for _, l := range ls {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}
