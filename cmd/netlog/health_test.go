package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
)

// notifySocket is a Unix datagram socket in the role of systemd's
// notification socket, named by NOTIFY_SOCKET for the rest of the test.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return c
}

// awaitNotify reads the next message sent to the notification socket.
func awaitNotify(t *testing.T, c *net.UnixConn, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != want {
		t.Fatalf("NOTIFY_SOCKET got %q, %v; want %q", buf[:n], err, want)
	}
}

// probe asks h's handler and returns the status and decoded body.
func probe(t *testing.T, handler http.HandlerFunc) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	handler(rec, httptest.NewRequest("GET", "/", nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return rec.Code, body
}

// TestHealthStates follows /healthz and /readyz through a start, an
// output going down and back, and a drain, with the sd_notify messages
// that go with them.
func TestHealthStates(t *testing.T) {
	notes := notifySocket(t)
	started, release := make(chan struct{}), make(chan struct{})
	ls := []listener{{desc: "tcp 127.0.0.1:1", serve: func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		<-release // the drain
		return nil
	}}}
	var down atomic.Bool
	h := newHealth(ls, []outputCheck{{"stdout", alwaysHealthy}, {"relay", func() error {
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	}}})
	state := func(handler http.HandlerFunc) (int, string) {
		code, body := probe(t, handler)
		if s, ok := body["state"].(string); ok {
			return code, s
		}
		l := body["listeners"].([]any)[0].(map[string]any)
		return code, l["state"].(string)
	}
	if code, s := state(h.readyz); code != 503 || s != "starting" {
		t.Errorf("/readyz before serving: %d %s", code, s)
	}
	if code, s := state(h.healthz); code != 503 || s != "bound" {
		t.Errorf("/healthz before serving: %d %s", code, s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go ls[0].serve(ctx)
	<-started
	var stderr strings.Builder
	h.serving(ctx, &stderr)
	awaitNotify(t, notes, "READY=1")
	if code, s := state(h.readyz); code != 200 || s != "ready" {
		t.Errorf("/readyz serving: %d %s", code, s)
	}
	if code, s := state(h.healthz); code != 200 || s != "accepting" {
		t.Errorf("/healthz serving: %d %s", code, s)
	}
	down.Store(true)
	code, body := probe(t, h.healthz)
	if out := body["outputs"].([]any)[1].(map[string]any); code != 503 || out["ok"] != false || out["error"] != "connection refused" {
		t.Errorf("/healthz with an output down: %d %v", code, body)
	}
	down.Store(false)
	cancel()
	awaitNotify(t, notes, "STOPPING=1")
	if code, s := state(h.readyz); code != 503 || s != "draining" {
		t.Errorf("/readyz draining: %d %s", code, s)
	}
	if code, s := state(h.healthz); code != 503 || s != "draining" {
		t.Errorf("/healthz draining: %d %s", code, s)
	}
	close(release)
	<-h.stopped
	if code, s := state(h.healthz); code != 503 || s != "stopped" {
		t.Errorf("/healthz stopped: %d %s", code, s)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q", stderr.String())
	}
}

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// TestServeHealthDuringDrain runs the binary with --metrics under a
// NOTIFY_SOCKET: READY=1 once it listens, /readyz and /healthz 200; on
// SIGTERM, STOPPING=1, and while a sender that has not closed holds the
// drain, both answer 503.
func TestServeHealthDuringDrain(t *testing.T) {
	notes := notifySocket(t)
	b := startBin(t, 2, nil, "--tcp", "127.0.0.1:0", "--udp", "", "--metrics", "127.0.0.1:0",
		"--drain", "10m", "--handshake-timeout", "10m", "--idle-timeout", "10m")
	awaitNotify(t, notes, "READY=1")
	base := "http://" + b.addrs["metrics"]
	if code, body := get(t, base+"/readyz"); code != 200 || body != `{"state":"ready"}`+"\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	want := `{"listeners":[{"listener":"tcp ` + b.addrs["tcp"] + `","state":"accepting"}],"outputs":[{"output":"stdout://","ok":true}]}` + "\n"
	if code, body := get(t, base+"/healthz"); code != 200 || body != want {
		t.Errorf("/healthz: %d %q, want %q", code, body, want)
	}

	// A sender like Python's SocketHandler: it sends a frame, then
	// keeps its connection open, which holds the drain.
	c, err := net.Dial("tcp", b.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	payload := `{"name":"held","msg":"holding the drain","levelname":"INFO","levelno":20}`
	c.Write(binary.BigEndian.AppendUint32(nil, uint32(len(payload))))
	c.Write([]byte(payload))
	printed := bufio.NewScanner(b.stdout)
	if !printed.Scan() || !strings.Contains(printed.Text(), "holding the drain") {
		t.Fatalf("printed %q", printed.Text())
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	awaitNotify(t, notes, "STOPPING=1")
	if code, body := get(t, base+"/readyz"); code != 503 || body != `{"state":"draining"}`+"\n" {
		t.Errorf("/readyz draining: %d %q", code, body)
	}
	if code, body := get(t, base+"/healthz"); code != 503 || !strings.Contains(body, `"state":"draining"`) {
		t.Errorf("/healthz draining: %d %q", code, body)
	}
	c.Close()
	go io.Copy(io.Discard, b.stdout)
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
}

// TestServeSIGHUP: SIGHUP (which ends a process by default) makes the
// binary reopen its output files and go on serving.
func TestServeSIGHUP(t *testing.T) {
	b := startBin(t, 1, nil, "--tcp", "127.0.0.1:0", "--udp", "")
	for range 2 {
		if err := b.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		b.awaitErr(t, "netlog: SIGHUP: reopened 0 of 0 output files")
	}
	h, err := netlog.NewSocketHandler("tcp", b.addrs["tcp"], &netlog.Options{Name: "after", DialTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	slog.New(h).Info("still serving")
	printed := bufio.NewScanner(b.stdout)
	if !printed.Scan() || !strings.HasSuffix(printed.Text(), "INFO after: still serving") {
		t.Errorf("printed %q", printed.Text())
	}
	h.Close(context.Background())
	b.cmd.Process.Signal(syscall.SIGTERM)
	go io.Copy(io.Discard, b.stdout)
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
}

// lineWriter sends each write (a line) to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

// TestOnHangupReopens: at a SIGHUP every reopen hook is called, and a
// failure reported.
func TestOnHangupReopens(t *testing.T) {
	var calls atomic.Int64
	lines := make(lineWriter, 10)
	stop := onHangup([]func() error{
		func() error { calls.Add(1); return nil },
		func() error { return errors.New("/var/log/x.log: permission denied") },
	}, lines)
	defer stop()
	self, _ := os.FindProcess(os.Getpid())
	if err := self.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"netlog: SIGHUP: reopen: /var/log/x.log: permission denied\n", "netlog: SIGHUP: reopened 1 of 2 output files\n"} {
		select {
		case l := <-lines:
			if l != want {
				t.Errorf("stderr %q, want %q", l, want)
			}
		case <-time.After(time.Minute):
			t.Fatalf("no report of the SIGHUP (%q)", want)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("hook called %d times", calls.Load())
	}
}
