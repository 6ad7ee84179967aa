package tlsclient_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/tlsclient"
)

// collector is a TLS listener with cfg that reports each connection's
// handshake error (nil: it succeeded) and then the first frame's
// payload.
type collector struct {
	addr       string
	handshakes chan error
	frames     chan string
}

func startCollector(t *testing.T, cfg *tls.Config) *collector {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c := &collector{addr: ln.Addr().String(), handshakes: make(chan error, 16), frames: make(chan string, 16)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go c.serve(conn.(*tls.Conn))
		}
	}()
	return c
}

func (c *collector) serve(conn *tls.Conn) {
	defer conn.Close()
	err := conn.Handshake()
	c.handshakes <- err
	if err != nil {
		return
	}
	r := bufio.NewReader(conn)
	var n uint32
	if binary.Read(r, binary.BigEndian, &n) != nil {
		return
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err == nil {
		c.frames <- string(b)
	}
}

// next waits for the next value of ch.
func next[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("no %s", what)
		panic("unreachable")
	}
}

// send sends one record through a socket handler to c and returns
// Handle's error.
func send(t *testing.T, h netlog.Handler, msg string) error {
	t.Helper()
	defer h.Close(context.Background())
	return h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0))
}

func newTLS(t *testing.T, cfg *tls.Config, caFile string) *netlog.TLS {
	t.Helper()
	c, err := tlsclient.New(cfg, caFile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestVerified: the server's certificate is verified against the CA
// file, against the system's roots by default (which do not hold the
// test CA: refused, as CauseTLS with the x509 error), and not at all only
// when the config says InsecureSkipVerify.
func TestVerified(t *testing.T) {
	certs := testcert.New(t)
	c := startCollector(t, &tls.Config{Certificates: []tls.Certificate{certs.Server}})
	long := netlog.Options{DialTimeout: time.Minute, Codec: netlog.CodecJSON}

	o := long
	o.TLS = newTLS(t, nil, certs.CAFile)
	h, err := netlog.NewSocketHandler("tls", c.addr, &o)
	if err != nil {
		t.Fatal(err)
	}
	if err := send(t, h, "verified"); err != nil {
		t.Fatal(err)
	}
	if err := next(t, c.handshakes, "handshake"); err != nil {
		t.Fatal(err)
	}
	if f := next(t, c.frames, "frame"); !strings.Contains(f, `"verified"`) {
		t.Errorf("got %q", f)
	}

	o = long // defaults: the system's roots
	h, err = netlog.NewSocketHandler("tls", c.addr, &o)
	if err != nil {
		t.Fatal(err)
	}
	var unknown x509.UnknownAuthorityError
	var e *netlog.Error
	if err := send(t, h, "unverified"); !errors.As(err, &unknown) || !errors.As(err, &e) || e.Cause != netlog.CauseTLS {
		t.Errorf("with the system's roots: %v, want a TLS error for an unknown authority", err)
	}
	next(t, c.handshakes, "refused handshake")

	h, err = netlog.Open("tls://"+c.addr+"?insecure-skip-verify=true&codec=json&dial-timeout=1m", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := send(t, h, "insecure"); err != nil {
		t.Fatal(err)
	}
	next(t, c.handshakes, "handshake")
	if f := next(t, c.frames, "frame"); !strings.Contains(f, `"insecure"`) {
		t.Errorf("got %q", f)
	}
}

// TestMinVersion: a server that speaks at most TLS 1.1 is refused, even
// when the config allows TLS 1.0.
func TestMinVersion(t *testing.T) {
	certs := testcert.New(t)
	c := startCollector(t, &tls.Config{Certificates: []tls.Certificate{certs.Server}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	h, err := netlog.NewSocketHandler("tls", c.addr, &netlog.Options{DialTimeout: time.Minute,
		TLS: newTLS(t, &tls.Config{MinVersion: tls.VersionTLS10, RootCAs: certs.Pool}, "")})
	if err != nil {
		t.Fatal(err)
	}
	var e *netlog.Error
	if err := send(t, h, "old"); !errors.As(err, &e) || e.Cause != netlog.CauseTLS {
		t.Errorf("TLS 1.1 server: %v, want a TLS error", err)
	}
	if err := next(t, c.handshakes, "handshake"); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("the server saw %v, want a refused protocol version", err)
	}
}

// TestOpenCA: a URL's ca= replaces the CAs of the defaults' TLS, whose
// other settings (here the server name) stay.
func TestOpenCA(t *testing.T) {
	certs := testcert.New(t)
	other := testcert.New(t)
	c := startCollector(t, &tls.Config{Certificates: []tls.Certificate{certs.Server}})
	defaults := &netlog.Options{TLS: newTLS(t, &tls.Config{ServerName: "127.0.0.1"}, other.CAFile), DialTimeout: time.Minute}
	h, err := netlog.Open("tls://"+c.addr+"?codec=json&ca="+url.QueryEscape(certs.CAFile), defaults)
	if err != nil {
		t.Fatal(err)
	}
	if err := send(t, h, "by the URL's CA"); err != nil {
		t.Fatal(err)
	}
	if f := next(t, c.frames, "frame"); !strings.Contains(f, "URL's CA") {
		t.Errorf("got %q", f)
	}
	h, err = netlog.Open("tls://"+c.addr, defaults) // the defaults' CA: not the server's
	if err != nil {
		t.Fatal(err)
	}
	var unknown x509.UnknownAuthorityError
	if err := send(t, h, "by the other CA"); !errors.As(err, &unknown) {
		t.Errorf("with the defaults' CA: %v, want an unknown authority", err)
	}
}

// TestNewErrors: a CA file that cannot be read, or holds no certificate,
// is an error naming it.
func TestNewErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte("no certificate here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/nonexistent/ca.pem", empty} {
		if _, err := tlsclient.New(nil, path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming it", path, err)
		}
	}
	if _, err := netlog.Open("tls://127.0.0.1:9?ca="+url.QueryEscape(empty), nil); err == nil || !strings.Contains(err.Error(), `parameter ca=`) {
		t.Errorf("ca= without a certificate: %v, want an error naming the parameter", err)
	}
}

// TestNotForPlainNetworks: TLS settings on a plain network are refused by
// the constructor, and ignored when they come with Open's defaults.
func TestNotForPlainNetworks(t *testing.T) {
	o := &netlog.Options{TLS: newTLS(t, nil, "")}
	if _, err := netlog.NewSocketHandler("tcp", "127.0.0.1:9", o); err == nil || !strings.Contains(err.Error(), "tls network") {
		t.Errorf("TLS on tcp: %v", err)
	}
	h, err := netlog.Open("tcp://127.0.0.1:9", o)
	if err != nil {
		t.Fatal(err)
	}
	h.Close(context.Background())
}
