package netlog_test

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
)

// TestLocalSyslogPlatform: where a platform has no local syslog daemon or
// no Unix datagram sockets (Windows), the local syslog handler and a
// unixgram URL are refused at construction with an error naming the
// platform; elsewhere a record reaches a local daemon's socket.
func TestLocalSyslogPlatform(t *testing.T) {
	if runtime.GOOS == "windows" {
		_, err := netlog.NewSyslogHandler("local", "", nil)
		wantErr(t, `NewSyslogHandler("local")`, err, "windows has no local syslog daemon")
		_, err = netlog.Open("syslog:///dev/log", nil)
		wantErr(t, "syslog:///dev/log", err, "windows has no local syslog daemon")
		_, err = netlog.Open("unixgram:///tmp/netlog.sock", nil)
		wantErr(t, "unixgram:///tmp/netlog.sock", err, "windows has no Unix datagram sockets")
		return
	}
	path := filepath.Join(t.TempDir(), "log")
	daemon, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	h, err := netlog.Open("syslog://"+path+"?name=platform", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	slog.New(h).Info("hello from " + runtime.GOOS)
	daemon.SetReadDeadline(time.Now().Add(30 * time.Second))
	b := make([]byte, 2048)
	n, err := daemon.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b[:n]); !strings.Contains(got, "hello from "+runtime.GOOS) {
		t.Errorf("the daemon read %q", got)
	}
}

func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: %v; want an error saying %q", what, err, want)
	}
}
