package netlog_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/internal/testcert"
)

func syslogHandler(t *testing.T, network, addr string, o *netlog.SyslogOptions) netlog.Handler {
	t.Helper()
	h, err := netlog.NewSyslogHandler(network, addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// fields splits a line of peer.Template.
func fields(t *testing.T, line string) map[string]string {
	t.Helper()
	f := strings.SplitN(line, "|", 8)
	if len(f) != 8 {
		t.Fatalf("rsyslog wrote %q", line)
	}
	return map[string]string{"pri": f[0], "timestamp": f[1], "hostname": f[2], "app-name": f[3],
		"procid": f[4], "msgid": f[5], "structured-data": f[6], "msg": f[7]}
}

// TestRsyslog sends RFC 5424 with structured data over each transport to
// a real rsyslogd and checks every field it parsed.
func TestRsyslog(t *testing.T) {
	certs := testcert.New(t)
	r := peer.StartRsyslog(t, certs.CAFile, certs.CertFile, certs.KeyFile)
	for _, c := range []struct {
		name, network, addr string
		o                   netlog.SyslogOptions
	}{
		{"udp", "udp", r.UDP, netlog.SyslogOptions{}},
		{"tcp octet-counting", "tcp", r.TCP, netlog.SyslogOptions{}},
		{"tcp lf", "tcp", r.TCP, netlog.SyslogOptions{Framing: netlog.LF}},
		{"tls", "tls", r.TLS, netlog.SyslogOptions{Options: netlog.Options{TLS: clientTLS(t, nil, certs.CAFile), DialTimeout: time.Minute}}},
		{"local unix socket", "local", r.Unix, netlog.SyslogOptions{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.Name, o.Hostname, o.ProcID, o.Facility = "go-app", "web-1", "4242", netlog.FacilityLocal0
			h := syslogHandler(t, c.network, c.addr, &o)
			log := slog.New(h).With("svc", `a"b\c]d`)
			before := time.Now().Truncate(time.Second)
			log.Error("héllo ✓ wörld", "msgid", "ID47", "user", "ü", slog.Group("g", "n", 3))
			log.Info("two\nlines")
			got := r.Lines(t, 2, 10*time.Second)
			if len(got) != 2 {
				t.Fatalf("rsyslog wrote %d lines, want 2: %q", len(got), got)
			}
			f := fields(t, got[0])
			want := map[string]string{
				"pri": "131", "hostname": "web-1", "app-name": "go-app", "procid": "4242", "msgid": "ID47",
				"structured-data": `[slog@32473 svc="a\"b\\c\]d" user="ü" g.n="3"]`, "msg": "héllo ✓ wörld",
			}
			if c.network == "local" { // RFC 3164: attributes as text, the daemon's own host name
				want["msg"] = `héllo ✓ wörld svc="a\"b\\c]d" msgid=ID47 user=ü g.n=3`
				want["msgid"], want["structured-data"], want["hostname"] = "-", "-", f["hostname"]
				f["msg"] = strings.TrimPrefix(f["msg"], " ")
			}
			for k, w := range want {
				if f[k] != w {
					t.Errorf("%s = %q, want %q", k, f[k], w)
				}
			}
			if ts, err := time.Parse(time.RFC3339, f["timestamp"]); err != nil || ts.Before(before) || ts.After(time.Now()) {
				t.Errorf("timestamp %q: %v", f["timestamp"], err)
			}
			f = fields(t, got[1])
			if f["pri"] != "134" || !strings.HasPrefix(strings.TrimPrefix(f["msg"], " "), "two#012lines") || f["msgid"] != "-" {
				t.Errorf("second record: %v (a newline must not split the record)", f)
			}
		})
	}
	t.Run("tcp long message", func(t *testing.T) {
		h := syslogHandler(t, "tcp", r.TCP, nil)
		long := strings.Repeat("0123456789", 500) // 5000 bytes, over 2048
		slog.New(h).Info(long)
		if f := fields(t, r.Lines(t, 1, 10*time.Second)[0]); f["msg"] != long {
			t.Errorf("msg of %d bytes arrived as %d bytes", len(long), len(f["msg"]))
		}
	})
}

// TestRsyslogRestart restarts rsyslogd in the middle of a TCP stream.
// Every record whose Handle returned nil arrives; every other one is
// counted as failed; after the restart the handler reconnects.
func TestRsyslogRestart(t *testing.T) {
	r := peer.StartRsyslog(t, "", "", "")
	h := syslogHandler(t, "tcp", r.TCP, &netlog.SyslogOptions{
		Options: netlog.Options{Backoff: netlog.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}},
	})
	ctx := context.Background()
	var delivered []string
	send := func(msg string) error {
		err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0))
		if err == nil {
			delivered = append(delivered, msg)
		}
		return err
	}
	for i := range 100 {
		if err := send("before-" + strings.Repeat("x", i%7)); err != nil {
			t.Fatal(err)
		}
	}
	r.Lines(t, 100, 10*time.Second)
	r.Stop(t)
	failedDown := 0
	for i := range 20 {
		if err := send("down-" + string(rune('a'+i))); err != nil {
			failedDown++
		}
	}
	r.Start(t)
	deadline := time.Now().Add(10 * time.Second)
	for send("first-after") != nil {
		if time.Now().After(deadline) {
			t.Fatal("no reconnect within 10 s of the restart")
		}
		time.Sleep(10 * time.Millisecond) // the backoff's own pace; Handle fails fast meanwhile
	}
	for i := range 100 {
		if err := send("after-" + strings.Repeat("y", i%5)); err != nil {
			t.Fatalf("record %d after the reconnect: %v", i, err)
		}
	}
	arrived := map[string]int{}
	lines := r.Lines(t, len(delivered)-100, 10*time.Second)
	for _, l := range lines {
		arrived[fields(t, l)["msg"]]++
	}
	for _, m := range delivered[100:] {
		if arrived[m] == 0 {
			t.Errorf("%q was delivered by Handle but never reached rsyslog", m)
		}
		arrived[m]--
	}
	st := h.Stats()
	if st.Handled != st.Written+st.Failed || int(st.Written) != len(delivered) || failedDown == 0 {
		t.Errorf("stats %+v, delivered %d, failed while down %d", st, len(delivered), failedDown)
	}
	if st.Connects < 2 {
		t.Errorf("connects = %d, want a reconnect", st.Connects)
	}
}

func TestSyslogConstructionErrors(t *testing.T) {
	for _, c := range []struct {
		network, addr string
		o             netlog.SyslogOptions
		want          string
	}{
		{"udp", "localhost:514", netlog.SyslogOptions{Facility: 24}, "facility 24"},
		{"udp", "localhost:514", netlog.SyslogOptions{Format: "rfc9999"}, `"rfc9999"`},
		{"tcp", "localhost:514", netlog.SyslogOptions{Framing: "crlf"}, `"crlf"`},
		{"udp", "localhost:514", netlog.SyslogOptions{Framing: "crlf"}, `"crlf"`},
		{"udp", "localhost:514", netlog.SyslogOptions{SDID: "bad id"}, `"bad id"`},
		{"sctp", "localhost:514", netlog.SyslogOptions{}, `"sctp"`},
		{"tcp", "localhost", netlog.SyslogOptions{}, "missing port"},
		{"udp", "localhost:514", netlog.SyslogOptions{Options: netlog.Options{Codec: "json"}}, `"json"`},
	} {
		_, err := netlog.NewSyslogHandler(c.network, c.addr, &c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s %+v: %v, want an error naming %s", c.network, c.addr, c.o, err, c.want)
		}
	}
	if _, err := syslog.ParseSeverity("loud"); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Errorf("ParseSeverity: %v", err)
	}
	if _, err := netlog.NewSyslogHandler("local", "", nil); err != nil {
		t.Errorf("local with no daemon up is not an error: %v", err)
	}
}

// TestSyslogNG sends RFC 5424 with structured data to a real syslog-ng
// over TCP with octet counting and over verified TLS.
func TestSyslogNG(t *testing.T) {
	certs := testcert.New(t)
	s := peer.StartSyslogNG(t, certs.CertFile, certs.KeyFile)
	for _, c := range []struct {
		name, network, addr string
		o                   netlog.SyslogOptions
	}{
		{"tcp octet-counting", "tcp", s.TCP, netlog.SyslogOptions{}},
		{"tls", "tls", s.TLS, netlog.SyslogOptions{Options: netlog.Options{TLS: clientTLS(t, nil, certs.CAFile), DialTimeout: time.Minute}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.Name, o.Hostname, o.ProcID, o.Facility = "go-app", "web-1", "4242", netlog.FacilityLocal0
			h := syslogHandler(t, c.network, c.addr, &o)
			slog.New(h).With("svc", `a"b\c]d`).Error("héllo ✓\nwörld", "msgid", "ID47", "user", "ü", slog.Group("g", "n", 3))
			got := s.Lines(t, 2, 10*time.Second) // the message's newline ends syslog-ng's line
			if len(got) != 2 {
				t.Fatalf("syslog-ng wrote %q", got)
			}
			// syslog-ng keeps SD params as dotted names (.SDATA.slog@32473.g.n)
			// and, writing $SDATA, splits the group's param at its last dot.
			want := `131|web-1|go-app|4242|ID47|[slog@32473 svc="a\"b\\c\]d" user="ü"][slog@32473.g n="3"]|héllo ✓`
			if got[0] != want || got[1] != "wörld" {
				t.Errorf("syslog-ng wrote\n %q\nwant\n %q", got, []string{want, "wörld"})
			}
		})
	}
}
