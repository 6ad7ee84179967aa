package netlog_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/internal/testrecv"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

func open(t *testing.T, rawURL string) netlog.Handler {
	t.Helper()
	h, err := netlog.Open(rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// urlFor is the URL of a test receiver: host:port, or a socket path.
func urlFor(scheme string, r *testrecv.Receiver, query string) string {
	if strings.HasPrefix(r.Network, "unix") {
		return scheme + "://" + (&url.URL{Path: r.Addr}).EscapedPath() + "?" + query
	}
	return scheme + "://" + r.Addr + "?" + query
}

// TestOpenSockets opens every netlog-frame scheme against a live receiver.
func TestOpenSockets(t *testing.T) {
	for _, c := range []struct{ scheme, query string }{
		{"tcp", "codec=json&name=api&level=debug"},
		{"udp", "codec=pickle&name=api&level=debug&max-datagram=9000"},
		{"unix", "name=api&level=debug&async=true&buffer=10&overflow=block&block-timeout=1s"},
		{"unixgram", "name=api&level=debug&async=true&buffer-bytes=64KiB"},
	} {
		t.Run(c.scheme, func(t *testing.T) {
			r := testrecv.Start(t, c.scheme)
			h := open(t, urlFor(c.scheme, r, c.query))
			slog.New(h).Debug("hello", "k", 1)
			e := r.Next(t)
			if e.Name != "api" || e.Msg != "hello" || e.LevelName != "DEBUG" || len(e.Attrs) != 1 {
				t.Errorf("%+v", e)
			}
			if err := h.Close(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestOpenSyslog opens every syslog scheme against a live receiver.
func TestOpenSyslog(t *testing.T) {
	for _, c := range []struct{ scheme, network, query, format string }{
		{"syslog+udp", "udp", "facility=local0&format=rfc3164&name=app", "rfc3164"},
		{"syslog+tcp", "tcp", "facility=local0&framing=lf&name=app&msgid-key=id", "rfc5424"},
		{"syslog+unix", "unix", "facility=local0&name=app&async=true", "rfc5424"},
		{"syslog+unixgram", "unixgram", "facility=local0&name=app&hostname=h1", "rfc5424"},
		{"syslog", "unixgram", "facility=local0&name=app", "rfc3164"},
	} {
		t.Run(c.scheme, func(t *testing.T) {
			r := testrecv.StartSyslog(t, c.network)
			h := open(t, urlFor(c.scheme, r, c.query))
			slog.New(h).Warn("hello")
			e := r.Next(t)
			if e.Msg != "hello" || e.Syslog.Facility != 16 || e.Syslog.Severity != 4 || e.Syslog.AppName != "app" || e.Syslog.Format != c.format {
				t.Errorf("%+v %+v", e, e.Syslog)
			}
		})
	}
	t.Run("syslog+tls", func(t *testing.T) {
		certs := testcert.New(t)
		got, refused := make(chan *record.Entry, 1), make(chan receive.Report, 1)
		srv := &receive.Server{Sink: receive.SinkFunc(func(e *record.Entry) error { got <- e; return nil }),
			OnRefuse: func(r receive.Report) { refused <- r }}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{certs.Server}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- srv.ServeSyslogStream(ctx, ln) }()
		defer func() { cancel(); <-done }()
		h := open(t, "syslog+tls://"+ln.Addr().String()+"?ca="+url.QueryEscape(certs.CAFile))
		slog.New(h).Error("over tls")
		if e := <-got; e.Msg != "over tls" || e.Syslog.Severity != 3 {
			t.Errorf("%+v", e)
		}
		h.Close(context.Background())
		// Without the CA, the certificate does not verify: nothing is sent.
		h = open(t, "syslog+tls://"+ln.Addr().String())
		if err := h.Handle(context.Background(), slog.NewRecord(certs.Server.Leaf.NotAfter, slog.LevelError, "x", 0)); err == nil {
			t.Error("an unverified certificate was accepted")
		}
		if r := <-refused; r.Reason != receive.ReasonHandshake {
			t.Errorf("the listener saw %v", r)
		}
	})
}

// TestOpenErrors: each malformed URL is refused with an error naming what
// is wrong, and a password never appears in it.
func TestOpenErrors(t *testing.T) {
	t.Setenv("NETLOG_TEST_UNSET", "")
	for _, c := range []struct{ url, want string }{
		{"127.0.0.1:9020", `"127.0.0.1:9020": first path segment in URL cannot contain colon`},
		{"localhost", "no scheme"},
		{"ftp://host:21", `unknown scheme "ftp"`},
		{"tcp://", "missing host:port"},
		{"tcp://localhost", "missing port"},
		{"tcp://localhost:99999", "99999"},
		{"tcp://localhost:x", `":x"`},
		{"tcp://localhost:9020/logs", `path "/logs"`},
		{"tcp://bob@localhost:9020", `user "bob"`},
		{"tcp:localhost:9020", `"localhost:9020" is not an address`},
		{"tcp://localhost:9020?colour=red", `unknown parameter "colour"`},
		{"tcp://localhost:9020?codec=xml", `"xml"`},
		{"tcp://localhost:9020?level=loud", `level="loud"`},
		{"tcp://localhost:9020?max-datagram=10", `unknown parameter "max-datagram"`},
		{"tcp://localhost:9020?async=yes please", `async="yes please"`},
		{"tcp://localhost:9020?buffer=10", `buffer="10": applies only with async=true`},
		{"tcp://localhost:9020?async=true&buffer=-1", `buffer="-1"`},
		{"tcp://localhost:9020?async=true&buffer-bytes=12XB", `buffer-bytes="12XB"`},
		{"tcp://localhost:9020?async=true&overflow=sometimes", `"sometimes"`},
		{"tcp://localhost:9020?dial-timeout=soon", `dial-timeout="soon"`},
		{"tcp://localhost:9020?name=a&name=b", `name="a,b": given more than once`},
		{"unix://relative/path", `host "relative"`},
		{"unix://", "empty Unix socket path"},
		{"udp://localhost:9021?framing=lf", `unknown parameter "framing"`},
		{"tcp://localhost:9020?ca=/etc/ca.pem", `unknown parameter "ca"`},
		{"tls://localhost:9020?ca=/nonexistent.pem", "/nonexistent.pem"},
		{"tls:///tmp/sock", `path "/tmp/sock"`},
		{"syslog+udp://localhost:514?facility=local9", `"local9"`},
		{"syslog+tcp://localhost:514?format=rfc9999", `"rfc9999"`},
		{"syslog+tcp://localhost:514?framing=crlf", `"crlf"`},
		{"syslog+tls://localhost:6514?ca=/nonexistent.pem", "/nonexistent.pem"},
		{"syslog+ftp://localhost:514", `unknown scheme "syslog+ftp"`},
		{"syslog://host/dev/log", `host "host"`},
		{"tcp://u:hunter2@[::1", "missing ']'"},
		{"tcp://u:hunter2@host:port", `invalid port ":port"`},
	} {
		h, err := netlog.Open(c.url, nil)
		if err == nil {
			h.Close(context.Background())
			t.Errorf("%s: no error", c.url)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want it to name %s", c.url, err, c.want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", c.url, err)
		}
	}
}

// A destination named by a URL: here an asynchronous socket handler that
// buffers up to 100,000 records through an outage of its receiver.
func ExampleOpen() {
	received := make(chan *record.Entry)
	addr, stop := startReceiver(func(e *record.Entry) { received <- e })
	defer stop()

	h, err := netlog.Open("tcp://"+addr+"?name=billing&async=true&buffer=100000&overflow=drop-oldest", nil)
	if err != nil {
		panic(err)
	}
	slog.New(h).Info("ready", "port", 8080)
	e := <-received
	fmt.Println(e.Name, e.LevelName, e.Msg, e.Attrs[0])

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil { // delivers what is pending first
		panic(err)
	}
	// Output:
	// billing INFO ready port=8080
}

// TestOpenSizeFitsPlatform: a count or size larger than the platform's int
// is refused with an error naming the parameter and the platform, never
// wrapped; on a 64-bit platform the same values are taken.
func TestOpenSizeFitsPlatform(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, c := range []struct {
		query  string
		fits64 bool // fits a 64-bit int, not a 32-bit one
	}{
		{"buffer-bytes=3GiB", true},
		{"buffer-bytes=3145728K", true},
		{"buffer-bytes=3221225472", true},
		{"buffer=3000000000", true},
		{"buffer-bytes=8589934592GiB", false},
		{"buffer-bytes=9223372036854775808", false},
		{"buffer=9223372036854775808", false},
	} {
		u := "udp://127.0.0.1:9021?async=true&" + c.query
		h, err := netlog.Open(u, nil)
		if c.fits64 && strconv.IntSize == 64 {
			if err != nil {
				t.Errorf("%s: %v", c.query, err)
			} else {
				h.Close(context.Background())
			}
			continue
		}
		if err == nil {
			h.Close(context.Background())
			t.Errorf("%s: taken on %s; want an error", c.query, platform)
			continue
		}
		key, value, _ := strings.Cut(c.query, "=")
		for _, want := range []string{fmt.Sprintf("%s=%q", key, value), "too large for " + platform} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v; want it to name %s", c.query, err, want)
			}
		}
	}
}
