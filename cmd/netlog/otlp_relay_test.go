package main

import (
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/netlog-go/netlog/internal/peer"
)

// TestRelayToCollector: Python's SocketHandler → netlog serve --out
// otlp+http:// → a real OpenTelemetry Collector → its file: every field
// of every record, where netlog serve received it included.
func TestRelayToCollector(t *testing.T) {
	py := peer.Path(t, "python3")
	c := peer.StartCollector(t, peer.CollectorOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 1, "--tcp", "127.0.0.1:0", "--udp", "", "--out", "otlp+http://"+c.HTTP)
	before := time.Now()
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
	logs := c.Logs(t, 8, time.Minute)
	if len(logs) != 8 {
		t.Fatalf("the Collector wrote %d records, want 8", len(logs))
	}
	_, listenPort, _ := net.SplitHostPort(s.addrs["tcp"])
	for i, want := range []struct {
		sev        int32
		text, body string
		line       string
		extra      bool // the attributes given in extra=
	}{
		{5, "DEBUG", "héllo DEBUG ✓", "10", true}, {9, "INFO", "héllo INFO ✓", "20", true},
		{13, "WARNING", "héllo WARNING ✓", "30", true}, {17, "ERROR", "héllo ERROR ✓", "40", true},
		{21, "CRITICAL", "héllo CRITICAL ✓", "50", true}, {12, "Level 25", "héllo Level 25 ✓", "25", true},
		{17, "ERROR", "failed", "exception", false}, {9, "INFO", "with stack", "stack", false},
	} {
		l, r := logs[i], logs[i].Record
		a := map[string]*commonpb.AnyValue{}
		for _, kv := range r.Attributes {
			a[kv.Key] = kv.Value
		}
		if l.Service != "py.sender" || l.Scope != "py.sender" || int32(r.SeverityNumber) != want.sev ||
			r.SeverityText != want.text || r.Body.GetStringValue() != want.body {
			t.Errorf("record %d: service %q scope %q severity %d %q body %q, want %+v", i, l.Service, l.Scope, r.SeverityNumber, r.SeverityText, r.Body.GetStringValue(), want)
		}
		ts, obs := time.Unix(0, int64(r.TimeUnixNano)), time.Unix(0, int64(r.ObservedTimeUnixNano))
		if ts.Before(before.Add(-time.Second)) || ts.After(obs) || obs.After(time.Now()) {
			t.Errorf("record %d: time %v, observed %v, the test started %v", i, ts, obs, before)
		}
		if !strings.HasSuffix(a["code.filepath"].GetStringValue(), "/receive/testdata/py_sender.py") ||
			a["code.lineno"].GetIntValue() != int64(sent.Lines[want.line]) || a["code.function"].GetStringValue() != "<module>" {
			t.Errorf("record %d: source %v:%v %v, want line %d", i, a["code.filepath"], a["code.lineno"], a["code.function"], sent.Lines[want.line])
		}
		if a["process.pid"].GetIntValue() != int64(sent.Pid) || a["processName"].GetStringValue() != "MainProcess" ||
			a["thread.id"].GetIntValue() == 0 || a["thread.name"].GetStringValue() != "MainThread" {
			t.Errorf("record %d: process %v %v thread %v %v", i, a["process.pid"], a["processName"], a["thread.id"], a["thread.name"])
		}
		if a["client.address"].GetStringValue() != "127.0.0.1" || a["client.port"].GetIntValue() == 0 ||
			a["network.transport"].GetStringValue() != "tcp" || a["server.address"].GetStringValue() != "127.0.0.1" ||
			strconv.FormatInt(a["server.port"].GetIntValue(), 10) != listenPort {
			t.Errorf("record %d: client %v:%v, listener %v %v:%v", i, a["client.address"], a["client.port"], a["network.transport"], a["server.address"], a["server.port"])
		}
		if want.extra && (a["user"].GetStringValue() != "ü" || a["n"].GetIntValue() != 3 || a["ratio"].GetDoubleValue() != 0.5 ||
			!a["ok"].GetBoolValue() || a["g.a"].GetIntValue() != 1 || a["g.h.b"].GetStringValue() != "c") {
			t.Errorf("record %d: attributes %v", i, r.Attributes)
		}
	}
	exc := map[string]string{}
	for _, kv := range logs[6].Record.Attributes {
		exc[kv.Key] = kv.Value.GetStringValue()
	}
	if exc["exception.type"] != "ZeroDivisionError" || exc["exception.message"] != "division by zero" ||
		!strings.HasPrefix(exc["exception.stacktrace"], "Traceback (most recent call last):") {
		t.Errorf("exception attributes %q", exc)
	}
	var stack string
	for _, kv := range logs[7].Record.Attributes {
		if kv.Key == "code.stacktrace" {
			stack = kv.Value.GetStringValue()
		}
	}
	if !strings.HasPrefix(stack, "Stack (most recent call last):") {
		t.Errorf("code.stacktrace %q", stack)
	}
}
