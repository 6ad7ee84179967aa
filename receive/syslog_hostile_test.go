package receive_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
	"github.com/netlog-go/netlog/tlsclient"
)

// TestSyslogHostile sends bad input to the syslog TCP and TLS listeners
// while a good client, authenticated by its certificate, streams over TLS.
func TestSyslogHostile(t *testing.T) {
	certs := testcert.New(t)
	entries := make(chan *record.Entry, 1024)
	reports := make(chan receive.Report, 64)
	srv := &receive.Server{
		Sink:     receive.SinkFunc(func(e *record.Entry) error { entries <- e; return nil }),
		OnRefuse: func(r receive.Report) { reports <- r },
		MaxFrame: 64 << 10, Drain: 100 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	var served sync.WaitGroup
	listen := func(tlsCfg *tls.Config) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if tlsCfg != nil {
			ln = tls.NewListener(ln, tlsCfg)
		}
		served.Add(1)
		go func() { defer served.Done(); srv.ServeSyslogStream(ctx, ln) }()
		return ln.Addr().String()
	}
	plain := listen(nil)
	secure := listen(&tls.Config{Certificates: []tls.Certificate{certs.Server}, ClientCAs: certs.Pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	defer func() { cancel(); served.Wait() }()

	const good = 200
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		client, err := tlsclient.New(&tls.Config{RootCAs: certs.Pool, Certificates: []tls.Certificate{certs.Client}}, "")
		if err != nil {
			t.Error(err)
			return
		}
		h, err := netlog.NewSyslogHandler("tls", secure, &netlog.SyslogOptions{
			// A minute for the connect, handshake included: on a busy machine
			// the default second can run out, and the first record with it.
			Options: netlog.Options{TLS: client, DialTimeout: time.Minute},
		})
		if err != nil {
			t.Error(err)
			return
		}
		defer h.Close(context.Background())
		for i := range good {
			slog.New(h).Info("good", "seq", i)
		}
	}()

	garbage := make([]byte, 100<<10) // no LF or NUL, and over MaxFrame
	for i := range garbage {
		garbage[i] = byte(0x80 + i%100)
	}
	for _, c := range []struct {
		name, addr string
		send       func(net.Conn) error
		reason     receive.Reason
	}{
		{"octet count of 10 GB", plain, write("10000000000 <14>1 - - - - - - x"), receive.ReasonTooLarge},
		{"count larger than the data", plain, write("50 <14>1 - - - - - - short"), receive.ReasonTruncated},
		{"bad octet count", plain, write("12x<14>hello\n"), receive.ReasonMalformed},
		{"binary garbage", plain, write(string(garbage)), receive.ReasonTooLarge},
		{"plain TCP on the TLS port", secure, write("<14>1 - - - - - - hello\n"), receive.ReasonHandshake},
		{"TLS client without a certificate", secure, func(c net.Conn) error {
			tc := tls.Client(c, &tls.Config{RootCAs: certs.Pool, ServerName: "127.0.0.1"})
			tc.Handshake()
			_, err := tc.Write([]byte("<14>1 - - - - - - hi\n"))
			return err
		}, receive.ReasonHandshake},
	} {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.send(conn)
		if tc, ok := conn.(*net.TCPConn); ok && c.reason == receive.ReasonTruncated {
			tc.CloseWrite()
		}
		select {
		case rep := <-reports:
			if rep.Reason != c.reason || rep.Peer != conn.LocalAddr().String() {
				t.Errorf("%s: report %v, want %s from %s", c.name, rep, c.reason, conn.LocalAddr())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no report", c.name)
		}
		conn.Close()
	}

	// Lines that are not syslog are passed on raw and counted.
	conn, err := net.Dial("tcp", plain)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "\x01\x02 not syslog\n<999>nor this\n")
	conn.Close()

	wg.Wait()
	seen, raw := 0, 0
	for seen < good || raw < 2 {
		select {
		case e := <-entries:
			if e.Syslog.Format == "raw" {
				raw++
				continue
			}
			if m := e.Syslog.SD[0].Params[0]; m.Value != fmt.Sprint(seen) {
				t.Fatalf("good record %d arrived as %v", seen, m)
			}
			seen++
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d good records and %d raw lines arrived", seen, good, raw)
		}
	}
	if st := srv.Stats(); st.Unparsed != 2 || st.Records != good+2 {
		t.Errorf("stats %+v", st)
	}
}

func write(s string) func(net.Conn) error {
	return func(c net.Conn) error {
		_, err := c.Write([]byte(s))
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		return err
	}
}
