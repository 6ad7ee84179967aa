package netlog_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
)

// pyReceiver runs the logging cookbook's receiver (testdata/py_receiver.py)
// and returns its address and the records it prints, as JSON lines.
func pyReceiver(t *testing.T, network string) (string, <-chan string) {
	t.Helper()
	where := "127.0.0.1"
	if strings.HasPrefix(network, "unix") {
		where = filepath.Join(t.TempDir(), "py.sock")
	}
	return peer.StartPython(t, "testdata/py_receiver.py", network, where)
}

func nextPy(t *testing.T, lines <-chan string) map[string]any {
	t.Helper()
	l := peer.NextLine(t, lines)
	var m map[string]any
	if err := json.Unmarshal([]byte(l), &m); err != nil {
		t.Fatalf("py_receiver.py printed %q: %v", l, err)
	}
	return m
}

// TestPythonReceiver sends records from netlog's handlers to Python's
// cookbook receiver over every transport, and checks each field Python
// sees after makeLogRecord, and that a Formatter can format the record.
func TestPythonReceiver(t *testing.T) {
	for _, network := range []string{"tcp", "udp", "unix", "unixgram"} {
		t.Run(network, func(t *testing.T) {
			addr, records := pyReceiver(t, network)
			datagram := network == "udp" || network == "unixgram"
			h := newHandler(t, datagram, network, addr, &netlog.Options{
				Level: slog.LevelDebug, AddSource: true, Name: "go.app",
			})
			log := slog.New(h).With("svc", "api")
			levels := []struct {
				level slog.Level
				no    float64
				name  string
			}{
				{slog.LevelDebug, 10, "DEBUG"}, {slog.LevelInfo, 20, "INFO"}, {slog.LevelWarn, 30, "WARNING"},
				{slog.LevelError, 40, "ERROR"}, {12, 50, "CRITICAL"}, {2, 25, "Level 25"},
			}
			for _, l := range levels {
				before := time.Now()
				_, _, line, _ := runtime.Caller(0)
				log.Log(context.Background(), l.level, "héllo ✓ "+l.name,
					"user", "ü", "n", 3, "ratio", 0.5, "ok", true,
					slog.Group("g", "a", 1, slog.Group("h", "b", "c")),
					"exc_text", "Traceback (most recent call last):\n  fake", "name", "clash")
				m := nextPy(t, records)
				want := map[string]any{
					"name": "go.app", "msg": "héllo ✓ " + l.name, "getMessage": "héllo ✓ " + l.name,
					"levelno": l.no, "levelname": l.name, "lineno": float64(line + 1),
					"funcName": "netlog_test.TestPythonReceiver.func1", "filename": "python_interop_test.go",
					"module": "python_interop_test", "process": float64(os.Getpid()),
					"user": "ü", "n": float64(3), "ratio": 0.5, "ok": true, "svc": "api",
					"exc_text": "Traceback (most recent call last):\n  fake", "name_": "clash",
					"args": nil, "exc_info": nil, "thread": nil,
				}
				for k, w := range want {
					if m[k] != w {
						t.Errorf("%s: %s = %#v, want %#v", l.name, k, m[k], w)
					}
				}
				if p, _ := m["pathname"].(string); !strings.HasSuffix(p, "/python_interop_test.go") {
					t.Errorf("%s: pathname = %q", l.name, p)
				}
				created, _ := m["created"].(float64)
				if at := time.Unix(0, int64(created*1e9)); at.Before(before.Add(-time.Millisecond)) || at.After(time.Now()) {
					t.Errorf("%s: created = %v, want between %v and now", l.name, at, before)
				}
				g, _ := m["g"].(map[string]any)
				if hh, _ := g["h"].(map[string]any); g["a"] != float64(1) || hh["b"] != "c" {
					t.Errorf("%s: g = %#v", l.name, m["g"])
				}
				if f, _ := m["formatted"].(string); !strings.Contains(f, "go.app "+l.name) || !strings.HasSuffix(f, "fake") {
					t.Errorf("%s: Python formats the record as %q", l.name, f)
				}
			}
		})
	}
}

// TestPythonReceiverLargeRecord sends a record far larger than one TCP
// segment or socket buffer: the frame arrives whole.
func TestPythonReceiverLargeRecord(t *testing.T) {
	addr, records := pyReceiver(t, "tcp")
	h := newHandler(t, false, "tcp", addr, nil)
	big := strings.Repeat("ü", 1<<18) // 512 KiB: many segments, more than one socket buffer write
	if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, big, 0)); err != nil {
		t.Fatal(err)
	}
	if m := nextPy(t, records); m["msg"] != big {
		t.Errorf("msg of %d bytes arrived as %d bytes", len(big), len(m["msg"].(string)))
	}
}
