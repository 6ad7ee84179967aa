package receive_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/receive"
)

// jsonLines sends each Write (one record of slog's JSON handler) on a
// channel.
type jsonLines chan []byte

func (w jsonLines) Write(p []byte) (int, error) {
	w <- append([]byte(nil), p...)
	return len(p), nil
}

// TestSlogSinkJSON is the program of issue 12 that takes records into its
// own slog handler: the record arrives in slog.NewJSONHandler with its
// level, message, groups and the sender's address.
func TestSlogSinkJSON(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lines := make(jsonLines, 1)
	srv := &receive.Server{Sink: receive.SlogSink(slog.NewJSONHandler(lines, nil))}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeStream(ctx, ln) }()
	defer func() { stop(); <-done }()

	h, err := netlog.NewSocketHandler("tcp", ln.Addr().String(), &netlog.Options{Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	slog.New(h).With("svc", "shop").WithGroup("req").Warn("slow", "id", 7, slog.Group("db", "ms", 120))

	var line []byte
	select {
	case line = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatalf("nothing forwarded; receiver %+v", srv.Stats())
	}
	var got map[string]any
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	req, _ := got["req"].(map[string]any)
	db, _ := req["db"].(map[string]any)
	peer, _ := got["peer"].(string)
	if got["level"] != "WARN" || got["msg"] != "slow" || got["logger"] != "web" || got["svc"] != "shop" ||
		req["id"] != float64(7) || db["ms"] != float64(120) || !strings.HasPrefix(peer, "127.0.0.1:") {
		t.Errorf("forwarded %s", line)
	}
}
