package netlog_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
	"unicode/utf8"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/internal/testrecv"
)

// TestSyslogSlogtest runs testing/slogtest on the RFC 5424 handler,
// parsing what crossed the socket with the receiver's syslog parser.
func TestSyslogSlogtest(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			r := testrecv.StartSyslog(t, network)
			h := syslogHandler(t, network, r.Addr, nil)
			slogtest.Run(t,
				func(*testing.T) slog.Handler { return h },
				func(t *testing.T) map[string]any { return testrecv.SyslogMap(r.Next(t)) })
		})
	}
}

// sent returns the bytes one record makes, as the receiver got them.
func sent(t *testing.T, o *netlog.SyslogOptions, log func(*slog.Logger)) string {
	t.Helper()
	pc := startRaw(t)
	h := syslogHandler(t, "udp", pc.addr, o)
	log(slog.New(h))
	return pc.next(t)
}

func TestSyslogFormats(t *testing.T) {
	at := time.Date(2026, 11, 24, 5, 6, 7, 891234567, time.FixedZone("", 3600))
	rec := func(l *slog.Logger) {
		l.Handler().Handle(context.Background(), func() slog.Record {
			r := slog.NewRecord(at, slog.LevelWarn, "disk ü 90%", 0)
			r.AddAttrs(slog.String("path", "/var"), slog.Group("g", slog.Int("n", 1)))
			return r
		}())
	}
	base := netlog.SyslogOptions{Options: netlog.Options{Name: "app"}, Hostname: "h1", ProcID: "77", Facility: netlog.FacilityDaemon}
	for _, c := range []struct {
		name string
		mod  func(o *netlog.SyslogOptions)
		want string
	}{
		{"rfc5424", func(*netlog.SyslogOptions) {},
			`<28>1 2026-11-24T05:06:07.891234+01:00 h1 app 77 - [slog@32473 path="/var" g.n="1"] disk ü 90%`},
		{"rfc5424 BOM and SD-ID", func(o *netlog.SyslogOptions) { o.BOM, o.SDID = true, "x@1" },
			"<28>1 2026-11-24T05:06:07.891234+01:00 h1 app 77 - [x@1 path=\"/var\" g.n=\"1\"] \ufeffdisk ü 90%"},
		{"rfc3164", func(o *netlog.SyslogOptions) { o.Format = netlog.RFC3164 },
			`<28>Nov 24 05:06:07 h1 app[77]: disk ü 90% path=/var g.n=1`},
		{"python", func(o *netlog.SyslogOptions) { o.Format, o.Ident = netlog.PythonSyslog, "myapp: " },
			"<28>myapp: disk ü 90% path=/var g.n=1\x00"},
		{"python without NUL", func(o *netlog.SyslogOptions) { o.Format, o.NoNUL = netlog.PythonSyslog, true },
			"<28>disk ü 90% path=/var g.n=1"},
		{"severity map", func(o *netlog.SyslogOptions) {
			o.Format = netlog.PythonSyslog
			o.MapSeverity = func(slog.Level) netlog.Severity { return netlog.SeverityNotice }
		}, "<29>disk ü 90% path=/var g.n=1\x00"},
	} {
		o := base
		c.mod(&o)
		if got := sent(t, &o, rec); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestSyslogHeaderLimits(t *testing.T) {
	o := &netlog.SyslogOptions{Hostname: strings.Repeat("h", 300), ProcID: "1 2", Options: netlog.Options{Name: strings.Repeat("a", 60)}}
	got := sent(t, o, func(l *slog.Logger) { l.Info("m", "msgid", strings.Repeat("m", 40), "bad key=\"]", "v") })
	f := strings.Fields(got)
	if len(f[2]) != syslog.MaxHostname || len(f[3]) != syslog.MaxAppName || f[4] != "1_2" || len(f[5]) != syslog.MaxMsgID {
		t.Errorf("header fields not held to RFC 5424 §6: %q", got)
	}
	if !strings.Contains(got, `[slog@32473 bad_key___="v"]`) {
		t.Errorf("SD name not sanitised: %q", got)
	}
}

// TestSyslogUDPOversize truncates at a UTF-8 boundary by default, and
// refuses when asked; both are counted.
func TestSyslogUDPOversize(t *testing.T) {
	long := strings.Repeat("ü", 2000) // 4000 bytes
	got := sent(t, nil, func(l *slog.Logger) { l.Info(long) })
	if len(got) > netlog.DefaultSyslogMessage || !utf8.ValidString(got) || !strings.HasSuffix(got, "üü") {
		t.Errorf("truncated to %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	pc := startRaw(t)
	h := syslogHandler(t, "udp", pc.addr, &netlog.SyslogOptions{RefuseOversize: true})
	err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, long, 0))
	if !errors.Is(err, netlog.ErrTooLarge) {
		t.Errorf("refuse: %v", err)
	}
	h2 := syslogHandler(t, "udp", pc.addr, nil)
	slog.New(h2).Info(long)
	if st := h.Stats(); st.TooLarge != 1 || st.Failed != 1 {
		t.Errorf("refusing handler: %+v", st)
	}
	if st := h2.Stats(); st.Truncated != 1 || st.Written != 1 {
		t.Errorf("truncating handler: %+v", st)
	}
}

// TestSyslogNULFraming escapes a NUL and a LF inside a message, so that a
// receiver that ends frames at either still sees one record.
func TestSyslogNULFraming(t *testing.T) {
	r := testrecv.StartSyslog(t, "tcp")
	h := syslogHandler(t, "tcp", r.Addr, &netlog.SyslogOptions{Framing: netlog.NUL})
	slog.New(h).Info("a\x00b\nc")
	slog.New(h).Info("next")
	if e := r.Next(t); e.Msg != "a#000b#012c" {
		t.Errorf("msg %q", e.Msg)
	}
	if e := r.Next(t); e.Msg != "next" {
		t.Errorf("msg %q", e.Msg)
	}
}

// TestSyslogLocalStreamFallback points "local" at a daemon listening on a
// Unix stream socket: the handler falls back from datagram to stream, as
// Python's SysLogHandler does, and ends each message with LF.
func TestSyslogLocalStreamFallback(t *testing.T) {
	r := testrecv.StartSyslog(t, "unix")
	h := syslogHandler(t, "local", r.Addr, &netlog.SyslogOptions{Options: netlog.Options{Name: "svc"}})
	log := slog.New(h)
	log.Warn("first", "k", "v")
	log.Warn("second")
	for _, want := range []string{"first k=v", "second"} {
		e := r.Next(t)
		if e.Msg != want || e.Syslog.Format != "rfc3164" || e.Syslog.AppName != "svc" || e.Syslog.Severity != int(syslog.Warning) {
			t.Errorf("got %q %+v, want %q from svc at warning", e.Msg, *e.Syslog, want)
		}
	}
}

// TestSyslogLocalSocketRecreated restarts a local daemon's datagram
// socket (removed and created again at the same path, as a restarting
// rsyslog's imuxsock does): the next record redials and arrives.
func TestSyslogLocalSocketRecreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.sock")
	listen := func() net.PacketConn {
		pc, err := net.ListenPacket("unixgram", path)
		if err != nil {
			t.Fatal(err)
		}
		return pc
	}
	read := func(pc net.PacketConn) string {
		buf := make([]byte, 4096)
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	pc := listen()
	h := syslogHandler(t, "local", path, nil)
	log := slog.New(h)
	log.Info("before")
	if got := read(pc); !strings.HasSuffix(got, "before") {
		t.Fatalf("got %q", got)
	}
	pc.Close()
	os.Remove(path)
	pc = listen()
	defer pc.Close()
	if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "after", 0)); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if got := read(pc); !strings.HasSuffix(got, "after") {
		t.Fatalf("got %q", got)
	}
	if st := h.Stats(); st.Connects != 2 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}
