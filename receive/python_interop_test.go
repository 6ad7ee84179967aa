package receive_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/testrecv"
	"github.com/netlog-go/netlog/record"
)

// TestPythonSenders receives what Python's SocketHandler and
// DatagramHandler send over every transport, and checks each field.
func TestPythonSenders(t *testing.T) {
	py := peer.Path(t, "python3")
	for _, network := range []string{"tcp", "udp", "unix", "unixgram"} {
		t.Run(network, func(t *testing.T) {
			r := testrecv.Start(t, network)
			start := time.Now()
			out, err := exec.Command(py, "testdata/py_sender.py", network, r.Addr).Output()
			if err != nil {
				t.Fatalf("py_sender.py: %v", err)
			}
			var sent struct {
				Pid   int
				Lines map[string]int
			}
			if err := json.Unmarshal(out, &sent); err != nil {
				t.Fatalf("py_sender.py printed %q: %v", out, err)
			}
			for _, l := range []struct {
				no   int
				name string
			}{{10, "DEBUG"}, {20, "INFO"}, {30, "WARNING"}, {40, "ERROR"}, {50, "CRITICAL"}, {25, "Level 25"}} {
				e := r.Next(t)
				checkCommon(t, e, sent.Pid, sent.Lines[fmt.Sprint(l.no)], start)
				if e.Msg != "héllo "+l.name+" ✓" || e.LevelNo != l.no || e.LevelName != l.name {
					t.Errorf("%s: msg %q, level %d %q", l.name, e.Msg, e.LevelNo, e.LevelName)
				}
				attrs := testrecv.Map(e)
				for k, w := range map[string]any{"user": "ü", "n": int64(3), "ratio": 0.5, "ok": true} {
					if attrs[k] != w {
						t.Errorf("%s: attr %s = %#v, want %#v", l.name, k, attrs[k], w)
					}
				}
				g, _ := attrs["g"].(map[string]any)
				if h, _ := g["h"].(map[string]any); g["a"] != int64(1) || h["b"] != "c" {
					t.Errorf("%s: group g = %#v", l.name, attrs["g"])
				}
			}
			e := r.Next(t)
			checkCommon(t, e, sent.Pid, sent.Lines["exception"], start)
			if e.Msg != "failed" || !strings.Contains(e.ExcText, "ZeroDivisionError: division by zero") {
				t.Errorf("exception record: msg %q, exc_text %q", e.Msg, e.ExcText)
			}
			e = r.Next(t)
			checkCommon(t, e, sent.Pid, sent.Lines["stack"], start)
			if !strings.HasPrefix(e.StackInfo, "Stack (most recent call last):") {
				t.Errorf("stack record: stack_info %q", e.StackInfo)
			}
		})
	}
}

func checkCommon(t *testing.T, e *record.Entry, pid, line int, start time.Time) {
	t.Helper()
	if e.Name != "py.sender" || e.Process != pid || e.Lineno != line || e.Module != "py_sender" ||
		!strings.HasSuffix(e.Pathname, "py_sender.py") || e.FuncName != "<module>" ||
		e.ThreadName != "MainThread" || e.Thread == 0 || e.ProcessName != "MainProcess" {
		t.Errorf("%q: standard fields %+v (want pid %d, line %d)", e.Msg, *e, pid, line)
	}
	if e.Created.Before(start.Add(-time.Second)) || e.Created.After(time.Now()) {
		t.Errorf("%q: created %v, not during the test", e.Msg, e.Created)
	}
}
