package receive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// TestDrainOnStop stops the server right after the sender's last write
// returned: every record the kernel accepted is still delivered.
func TestDrainOnStop(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			var got atomic.Int64
			srv := &receive.Server{Sink: receive.SinkFunc(func(*record.Entry) error { got.Add(1); return nil })}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			var addr string
			newH := netlog.NewSocketHandler
			n := 5000
			if network == "tcp" {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr = ln.Addr().String()
				go func() { done <- srv.ServeStream(ctx, ln) }()
			} else {
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				addr, newH, n = pc.LocalAddr().String(), netlog.NewDatagramHandler, 100
				go func() { done <- srv.ServePacket(ctx, pc) }()
			}
			h, err := newH(network, addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(context.Background())
			log := slog.New(h)
			for i := range n {
				log.Info("record", "i", i)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got.Load() != int64(n) {
				t.Fatalf("delivered %d of %d records the kernel had accepted", got.Load(), n)
			}
		})
	}
}

func TestPrinter(t *testing.T) {
	e := &record.Entry{
		Name: "app", Msg: "two\nlines", LevelName: "ERROR", LevelNo: 40,
		Created:  time.Date(2026, 11, 24, 5, 0, 0, 123456789, time.UTC),
		Pathname: "/src/main.go", Lineno: 7, ExcText: "Traceback:\n  boom",
		Attrs: []slog.Attr{slog.String("user", "a b"), slog.Group("g", slog.Int("n", 1)), slog.String("eq", "k=v")},
	}
	var text bytes.Buffer
	(&receive.Printer{W: &text}).Write(e)
	want := "2026-11-24T05:00:00.123456Z ERROR app: two\n\tlines user=\"a b\" g.n=1 eq=\"k=v\" source=/src/main.go:7\n\tTraceback:\n\t  boom\n"
	if text.String() != want {
		t.Errorf("text:\n got %q\nwant %q", text.String(), want)
	}
	var js bytes.Buffer
	(&receive.Printer{W: &js, JSON: true}).Write(e)
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil || js.Bytes()[js.Len()-1] != '\n' {
		t.Fatalf("json line %q: %v", js.String(), err)
	}
	if m["msg"] != "two\nlines" || m["levelname"] != "ERROR" || m["user"] != "a b" ||
		m["g"].(map[string]any)["n"] != float64(1) || math.Abs(m["created"].(float64)-1795496400.123457) > 1e-6 {
		t.Errorf("json: %v", m)
	}
}
