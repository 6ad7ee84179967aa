package netlog_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testcert"
)

// TestNoImportSideEffects: importing netlog registers nothing on
// net/http's default mux (expvar's /debug/vars, for one), and links no
// TLS or SMTP client: a TLS or SMTP destination then says which package
// it needs. It runs a program of its own: this test binary links expvar
// for an example, and tlsclient and smtp for their tests.
func TestNoImportSideEffects(t *testing.T) {
	run := exec.Command("go", "run", "./internal/sizecheck/imports")
	// Built for the machine it runs on, also when this test runs under
	// emulation for another GOARCH (scripts/platforms.sh).
	run.Env = append(os.Environ(), "GOOS=", "GOARCH=")
	out, err := run.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("importing netlog: %v\n%s", err, out)
	}
	deps, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(deps)) {
		if dep == "expvar" || dep == "net/http/pprof" || dep == "crypto/tls" || dep == "crypto/x509" || strings.HasPrefix(dep, "github.com/wneessen/go-mail") {
			t.Errorf("the library imports %s", dep)
		}
	}
}

// wrongCACollector is a TLS collector whose certificate a client trusting
// another CA refuses; it returns its address.
func wrongCACollector(t *testing.T) string {
	server := testcert.New(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{server.Server}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.(*tls.Conn).Handshake() // fails: the client hangs up
			}()
		}
	}()
	return ln.Addr().String()
}

// TestOnErrorWrongCA is the web service of issue 12: TLS and Async
// against a collector whose certificate another CA signed. The x509 error
// reaches OnError and Stats.LastError, and Close says what it dropped.
func TestOnErrorWrongCA(t *testing.T) {
	addr := wrongCACollector(t)
	errs := make(chan error, 10)
	h, err := netlog.NewSocketHandler("tls", addr, &netlog.Options{
		TLS:     clientTLS(t, nil, testcert.New(t).CAFile), // not the collector's CA
		Async:   &netlog.Async{},
		Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		OnError: func(err error) { errs <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	for range 6 {
		log.Info("checkout", "order", 42)
	}
	var got error
	select {
	case got = <-errs:
	case <-time.After(30 * time.Second):
		t.Fatalf("OnError was not called; stats %+v", h.Stats())
	}
	checkX509 := func(where string, err error) {
		t.Helper()
		var unknown x509.UnknownAuthorityError
		var e *netlog.Error
		if !errors.As(err, &unknown) || !errors.As(err, &e) || e.Cause != netlog.CauseTLS || e.Records < 1 || e.Records > 6 {
			t.Errorf("%s: %v (%#v), want the x509 unknown authority error, cause tls, 1-6 records queued", where, err, e)
		}
		if n := strings.Count(err.Error(), addr); n != 1 {
			t.Errorf("%s: %q names the destination %d times", where, err, n)
		}
	}
	checkX509("OnError", got)
	st := h.Stats()
	checkX509("Stats.LastError", st.LastError)
	if st.LastErrorTime.IsZero() {
		t.Error("Stats.LastErrorTime is zero")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = h.Close(ctx)
	var e *netlog.Error
	if !errors.Is(err, netlog.ErrClosed) || !errors.As(err, &e) || e.Records != 6 || e.Cause != netlog.CauseDropped {
		t.Errorf("Close: %v (%#v), want 6 records dropped", err, e)
	}
}

// TestCloseDefaultBound: Close with a context that has no deadline
// returns, with the collector down and records queued, and says what it
// dropped. (It returns after DefaultCloseTimeout; the outer deadline is
// only a guard against hanging.)
func TestCloseDefaultBound(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down
	h, err := netlog.NewSocketHandler("tcp", addr, &netlog.Options{Async: &netlog.Async{}})
	if err != nil {
		t.Fatal(err)
	}
	slog.New(h).Error("lost")
	done := make(chan error, 1)
	go func() { done <- h.Close(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, netlog.ErrClosed) || !strings.Contains(err.Error(), "1 records not delivered") {
			t.Errorf("Close: %v, want it to say 1 record was dropped", err)
		}
	case <-time.After(netlog.DefaultCloseTimeout + time.Minute):
		t.Fatal("Close(context.Background()) did not return")
	}
	if st := h.Stats(); st.Dropped.Closed != 1 {
		t.Errorf("stats %+v, want Dropped.Closed 1", st)
	}
}

// TestErrorsMatchSentinels: the same condition is the same sentinel
// whatever the handler.
func TestErrorsMatchSentinels(t *testing.T) {
	udp, err := netlog.NewDatagramHandler("udp", "127.0.0.1:9", &netlog.Options{MaxDatagram: 1000})
	if err != nil {
		t.Fatal(err)
	}
	big := slog.NewRecord(time.Now(), slog.LevelInfo, strings.Repeat("x", 2000), 0)
	if err := udp.Handle(context.Background(), big); !errors.Is(err, netlog.ErrTooLarge) {
		t.Errorf("datagram over the limit: %v, want ErrTooLarge", err)
	}
	udp.Close(context.Background())
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "late", 0)
	if err := udp.Handle(context.Background(), r); !errors.Is(err, netlog.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// TestLastErrorOverflow: once the writer's connect has failed and it
// waits out a long backoff, a record dropped by the full queue is the
// latest error.
func TestLastErrorOverflow(t *testing.T) {
	h := newHandler(t, false, "tcp", unusedAddr(t), &netlog.Options{
		Async:   &netlog.Async{MaxRecords: 1, Overflow: netlog.DropNewest},
		Backoff: netlog.Backoff{Initial: time.Hour, Max: time.Hour},
	})
	log := slog.New(h)
	log.Info("queued")
	var last *netlog.Error
	for deadline := time.Now().Add(30 * time.Second); !errors.As(h.Stats().LastError, &last) || last.Cause != netlog.CauseDial; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no failed connect reported within 30 s: %v", h.Stats().LastError)
		}
	}
	log.Info("dropped")
	if st := h.Stats(); !errors.As(st.LastError, &last) || last.Cause != netlog.CauseDropped || !errors.Is(last, netlog.ErrQueueFull) || last.Records != 1 {
		t.Errorf("LastError after overflow: %v, want the dropped record", st.LastError)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // give up the queued record now, not after DefaultCloseTimeout
	h.Close(ctx)
}
