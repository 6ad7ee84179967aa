package smtp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/internal/testrecv"
	"github.com/netlog-go/netlog/internal/testsmtp"
	"github.com/netlog-go/netlog/smtp"
	"github.com/netlog-go/netlog/tlsclient"
)

func smtpHandler(t *testing.T, addr string, o *smtp.Options) netlog.Handler {
	t.Helper()
	if o.From == "" {
		o.From = "alerts@example.com"
	}
	if o.To == nil {
		o.To = []string{"ops@example.com", "oncall@example.com"}
	}
	h, err := smtp.NewHandler(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Close(ctx)
	})
	return h
}

// clientTLS is tlsclient.New that fails t on an error.
func clientTLS(t testing.TB, cfg *tls.Config) *netlog.TLS {
	t.Helper()
	c, err := tlsclient.New(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func flush(t *testing.T, h netlog.Handler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSMTPDelivery sends over STARTTLS and implicit TLS with AUTH PLAIN
// and LOGIN, and over plaintext without credentials, to a real SMTP
// server, and checks what a mail reader sees.
func TestSMTPDelivery(t *testing.T) {
	certs := testcert.New(t)
	users := map[string]string{"app": "s3cret"}
	for _, c := range []struct {
		name      string
		mode      testsmtp.Mode
		mech      string
		security  string
		user      string
		tlsWanted bool
	}{
		{"starttls plain-auth", testsmtp.STARTTLS, "PLAIN", string(smtp.STARTTLS), "app", true},
		{"implicit tls login-auth", testsmtp.ImplicitTLS, "LOGIN", string(smtp.ImplicitTLS), "app", true},
		{"plaintext no auth", testsmtp.Plain, "", string(smtp.Plaintext), "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := testsmtp.Start(t, testsmtp.Config{Mode: c.mode, Cert: &certs.Server, Mechanisms: []string{c.mech}, Users: users})
			o := &smtp.Options{Options: netlog.Options{Name: "billing", Level: slog.LevelError}, PerRecord: true,
				Security: smtp.Security(c.security), Username: c.user}
			o.TLS = clientTLS(t, &tls.Config{RootCAs: certs.Pool})
			if c.user != "" {
				o.Password = users[c.user]
			}
			h := smtpHandler(t, srv.Addr, o)
			log := slog.New(h).With("region", "eu")
			log.Error("Disk ✓ full", "free", "3%", slog.Group("disk", "dev", "/dev/sda1"))
			log.Error("second")
			flush(t, h)
			first, second := srv.Next(t), srv.Next(t)
			if first.User != c.user || first.TLS != c.tlsWanted {
				t.Errorf("authenticated as %q over TLS %v; want %q, %v", first.User, first.TLS, c.user, c.tlsWanted)
			}
			if first.From != "alerts@example.com" || strings.Join(first.To, ",") != "ops@example.com,oncall@example.com" {
				t.Errorf("envelope from %q to %q", first.From, first.To)
			}
			if first.Subject != "ERROR billing: Disk ✓ full" || first.Header.Get("Date") == "" ||
				!strings.Contains(first.Header.Get("To"), "oncall@example.com") {
				t.Errorf("headers: subject %q, %v", first.Subject, first.Header)
			}
			id1, id2 := first.Header.Get("Message-Id"), second.Header.Get("Message-Id")
			if id1 == "" || id1 == id2 {
				t.Errorf("Message-IDs %q and %q must be present and unique", id1, id2)
			}
			for _, line := range []string{"level: ERROR", "logger: billing", "msg: Disk ✓ full", "region: eu", "free: 3%", "disk.dev: /dev/sda1"} {
				if !strings.Contains(first.Body, "\n"+line+"\n") {
					t.Errorf("body lacks %q:\n%s", line, first.Body)
				}
			}
			if st := h.Stats(); st.Emails != 2 || st.Mailed != 2 {
				t.Errorf("stats %+v", st)
			}
			srv.AwaitLogouts(t, int(srv.Sessions.Load())) // every connection was closed
		})
	}
}

// TestSMTPSecurity: no downgrade, no unverified certificate, no header
// injection.
func TestSMTPSecurity(t *testing.T) {
	certs := testcert.New(t)
	t.Run("credentials and a server without STARTTLS", func(t *testing.T) {
		srv := testsmtp.Start(t, testsmtp.Config{Mode: testsmtp.Plain, Mechanisms: []string{"PLAIN"},
			Users: map[string]string{"app": "pw"}, InsecureAuth: true})
		failed := make(chan error, 1)
		h := smtpHandler(t, srv.Addr, &smtp.Options{PerRecord: true, Username: "app", Password: "pw",
			Options: netlog.Options{OnError: func(err error) { failed <- err }}})
		slog.New(h).Error("secret")
		select {
		case err := <-failed:
			if !strings.Contains(strings.ToLower(err.Error()), "starttls") {
				t.Errorf("error %v does not say STARTTLS is missing", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no error reported")
		}
		if len(srv.Received) != 0 || h.Stats().Failed != 1 {
			t.Errorf("%d emails received, stats %+v", len(srv.Received), h.Stats())
		}
	})
	t.Run("credentials over plaintext refused at construction", func(t *testing.T) {
		_, err := smtp.NewHandler("127.0.0.1:25", &smtp.Options{From: "a@b.c", To: []string{"d@e.f"},
			Security: smtp.Plaintext, Username: "u", Password: "p"})
		if err == nil || !strings.Contains(err.Error(), "never sent unencrypted") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("certificate for another host", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.2:0") // the certificate names 127.0.0.1 and localhost only
		if err != nil {
			t.Fatal(err)
		}
		srv := testsmtp.Start(t, testsmtp.Config{Mode: testsmtp.ImplicitTLS, Cert: &certs.Server, Listener: ln})
		failed := make(chan error, 1)
		h := smtpHandler(t, srv.Addr, &smtp.Options{PerRecord: true, Security: smtp.ImplicitTLS,
			Options: netlog.Options{TLS: clientTLS(t, &tls.Config{RootCAs: certs.Pool}), OnError: func(err error) { failed <- err }}})
		slog.New(h).Error("to the wrong host")
		select {
		case err := <-failed:
			var verr *x509.HostnameError
			if !errors.As(err, &verr) && !strings.Contains(err.Error(), "certificate") {
				t.Errorf("error %v is not about the certificate", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no error reported")
		}
		if len(srv.Received) != 0 {
			t.Error("an email went to a server whose certificate names another host")
		}
	})
	t.Run("header injection through the subject", func(t *testing.T) {
		srv := testsmtp.Start(t, testsmtp.Config{Mode: testsmtp.Plain})
		h := smtpHandler(t, srv.Addr, &smtp.Options{PerRecord: true, Security: smtp.Plaintext})
		slog.New(h).Error("x\r\nBcc: victim@example.com\r\n\r\nforged body")
		flush(t, h)
		m := srv.Next(t)
		if m.Header.Get("Bcc") != "" || strings.Contains(string(m.Raw), "\r\nBcc:") || len(m.To) != 2 {
			t.Errorf("injected: headers %v, recipients %v", m.Header, m.To)
		}
		if !strings.HasPrefix(m.Subject, "ERROR") || !strings.Contains(m.Subject, "Bcc: victim@example.com") {
			t.Errorf("subject %q should keep the text, on one line", m.Subject)
		}
	})
}

// TestSMTPDigest: 100 Info records, then one Error: one email, the Error
// first, then the 100 before it in order.
func TestSMTPDigest(t *testing.T) {
	srv := testsmtp.Start(t, testsmtp.Config{})
	h := smtpHandler(t, srv.Addr, &smtp.Options{Security: smtp.Plaintext})
	log := slog.New(h)
	for i := range 100 {
		log.Info("step", "i", i)
	}
	log.Error("failed", "code", 7)
	flush(t, h)
	m := srv.Next(t)
	body := m.Body
	if !strings.HasPrefix(body, "This email holds 101 records.\n\n--- ERROR") {
		t.Fatalf("body starts %q", body[:min(len(body), 80)])
	}
	last := strings.Index(body, "code: 7")
	for i := range 100 {
		at := strings.Index(body, fmt.Sprintf("\ni: %d\n", i))
		if at < last {
			t.Fatalf("record %d is at %d, not after the previous one (%d)", i, at, last)
		}
		last = at
	}
	if st := h.Stats(); st.Emails != 1 || st.Mailed != 101 || len(srv.Received) != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestSMTPStorm: 1000 errors within a second against a limit of 10 emails
// a minute: 10 emails in that minute, then one that gathers the rest, and
// the emails account for all 1000 records.
func TestSMTPStorm(t *testing.T) {
	srv := testsmtp.Start(t, testsmtp.Config{})
	var mu sync.Mutex
	now := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := smtpHandler(t, srv.Addr, &smtp.Options{Security: smtp.Plaintext, MaxEmails: 10, Per: time.Minute})
	smtp.SetClock(h, clock)
	log := slog.New(h)
	for i := range 10 { // the first ten go out as they come
		log.Error("disk full", "n", i)
		flush(t, h)
	}
	for i := 10; i < 1000; i++ {
		log.Error("disk full", "n", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err := h.Flush(ctx)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "990 records not sent") || h.Stats().Emails != 10 {
		t.Fatalf("within the minute: flush %v, stats %+v", err, h.Stats())
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	flush(t, h)
	total := 0
	for range 11 {
		m := srv.Next(t)
		n := 1
		fmt.Sscanf(m.Body, "This email holds %d records", &n)
		total += n
		if n > 1 && !strings.HasPrefix(m.Subject, fmt.Sprintf("[%d alerts, %d records] ", n, n)) {
			t.Errorf("gathered email's subject %q does not say what it holds", m.Subject)
		}
	}
	if st := h.Stats(); total != 1000 || st.Mailed != 1000 || st.Emails != 11 || len(srv.Received) != 0 {
		t.Errorf("emails hold %d records; stats %+v", total, st)
	}
	log.Info("context that no alert follows")
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if st.Handled != st.Dropped.Total()+st.Mailed+st.Failed+st.Discarded+st.Pending || st.Discarded != 1 || st.Pending != 0 {
		t.Errorf("the counts do not add up: %+v", st)
	}
}

// TestSMTPFailures: a 451 is retried, a 550 is reported and counted, a
// server that comes up late gets the email, and Close keeps its deadline.
func TestSMTPFailures(t *testing.T) {
	fast := netlog.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	t.Run("451 then 250", func(t *testing.T) {
		srv := testsmtp.Start(t, testsmtp.Config{Reply: func(n int) error {
			if n == 1 {
				return &gosmtp.SMTPError{Code: 451, Message: "try later"}
			}
			return nil
		}})
		h := smtpHandler(t, srv.Addr, &smtp.Options{PerRecord: true, Security: smtp.Plaintext, Options: netlog.Options{Backoff: fast}})
		slog.New(h).Error("retry me")
		flush(t, h)
		srv.Next(t)
		if st := h.Stats(); st.Retries != 1 || st.Emails != 1 || st.Failed != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("550", func(t *testing.T) {
		srv := testsmtp.Start(t, testsmtp.Config{Reply: func(int) error { return &gosmtp.SMTPError{Code: 550, Message: "no such user"} }})
		failed := make(chan error, 1)
		h := smtpHandler(t, srv.Addr, &smtp.Options{PerRecord: true, Security: smtp.Plaintext, Options: netlog.Options{OnError: func(err error) { failed <- err }}})
		slog.New(h).Error("bounced")
		select {
		case err := <-failed:
			if !strings.Contains(err.Error(), "550") {
				t.Errorf("error %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no error reported")
		}
		if st := h.Stats(); st.Failed != 1 || st.Retries != 0 || st.Emails != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("server down, then up", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		h := smtpHandler(t, addr, &smtp.Options{PerRecord: true, Security: smtp.Plaintext, Options: netlog.Options{Backoff: fast}})
		slog.New(h).Error("eventually")
		for h.Stats().Retries < 2 {
			runtime.Gosched()
		}
		ln, err = net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		srv := testsmtp.Start(t, testsmtp.Config{Listener: ln})
		flush(t, h)
		if m := srv.Next(t); !strings.Contains(m.Subject, "eventually") {
			t.Errorf("subject %q", m.Subject)
		}
	})
	t.Run("Close keeps its deadline", func(t *testing.T) {
		h, err := smtp.NewHandler(silentCollector(t), &smtp.Options{From: "a@b.c", To: []string{"d@e.f"},
			PerRecord: true, Security: smtp.Plaintext, Options: netlog.Options{DialTimeout: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		slog.New(h).Error("stuck")
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = h.Close(ctx)
		if took := time.Since(start); took > time.Second || err == nil {
			t.Errorf("Close took %v and returned %v; want by its 300 ms deadline, with an error", took, err)
		}
	})
}

// TestSMTPSlogtest runs testing/slogtest on the per-record handler,
// reading each email's body back into fields.
func TestSMTPSlogtest(t *testing.T) {
	srv := testsmtp.Start(t, testsmtp.Config{})
	h := smtpHandler(t, srv.Addr, &smtp.Options{PerRecord: true, Security: smtp.Plaintext, MaxEmails: 1000})
	slogtest.Run(t,
		func(*testing.T) slog.Handler { return h },
		func(t *testing.T) map[string]any { flush(t, h); return bodyMap(t, srv.Next(t).Body) })
}

// bodyMap reads "name: value" lines back into slogtest's map: time, level
// and msg, and the attributes with their dotted names nested.
func bodyMap(t *testing.T, body string) map[string]any {
	m := map[string]any{}
	for _, line := range strings.Split(body, "\n")[1:] {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || k == "logger" {
			continue
		}
		if strings.HasPrefix(v, `"`) {
			fmt.Sscanf(v, "%q", &v)
		}
		testrecv.SetDotted(m, k, v)
	}
	return m
}

// TestSMTPPythonServer sends to Python's own smtpd, and reads the email
// back with Python's email package.
func TestSMTPPythonServer(t *testing.T) {
	addr, lines := peer.StartPython(t, "testdata/py_smtpd.py")
	h := smtpHandler(t, addr, &smtp.Options{
		Security: smtp.Plaintext, Subject: "Störung ✓ in billing", Options: netlog.Options{Name: "billing"}})
	log := slog.New(h)
	log.Warn("retrying", "attempt", 1)
	log.Error("payment failed", "order", 1042, "reason", "card declined ü")
	flush(t, h)
	var m map[string]any
	if err := json.Unmarshal([]byte(peer.NextLine(t, lines)), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"mailfrom": "alerts@example.com", "subject": "Störung ✓ in billing",
		"content_type": "text/plain", "charset": "utf-8",
	}
	for k, w := range want {
		if m[k] != w {
			t.Errorf("%s = %#v, want %#v", k, m[k], w)
		}
	}
	if rc := fmt.Sprint(m["rcpttos"]); rc != "[ops@example.com oncall@example.com]" {
		t.Errorf("recipients %s", rc)
	}
	body, _ := m["body"].(string)
	for _, s := range []string{"This email holds 2 records.", "--- ERROR billing: payment failed", "reason: card declined ü",
		"The 1 records before it, oldest first:", "msg: retrying"} {
		if !strings.Contains(body, s) {
			t.Errorf("Python reads a body without %q:\n%s", s, body)
		}
	}
	if m["date"] == "None" || m["message_id"] == "None" {
		t.Errorf("Date %v, Message-ID %v", m["date"], m["message_id"])
	}
}

// silentCollector is a loopback address whose listener accepts
// connections, holds them open and never reads or answers.
func silentCollector(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
			defer c.Close() // held open until the listener closes
		}
	}()
	return ln.Addr().String()
}

// TestErrorsMatchSentinels: the SMTP handler's refusals match the root
// package's sentinels, as every handler's do.
func TestErrorsMatchSentinels(t *testing.T) {
	mail, err := smtp.NewHandler("127.0.0.1:9", &smtp.Options{From: "a@example.com", To: []string{"b@example.com"},
		Security: smtp.Plaintext, Queue: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "late", 0)
	var full error
	for i := 0; i < 1000 && full == nil; i++ {
		full = mail.Handle(context.Background(), r)
	}
	var e *netlog.Error
	if !errors.Is(full, netlog.ErrQueueFull) || !errors.As(full, &e) || e.Cause != netlog.CauseDropped || e.Dest != "smtp 127.0.0.1:9" {
		t.Errorf("SMTP queue full: %v, want ErrQueueFull, dropped, from smtp 127.0.0.1:9", full)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	mail.Close(ctx)
	if err := mail.Handle(context.Background(), r); !errors.Is(err, netlog.ErrClosed) {
		t.Errorf("SMTP after Close: %v, want ErrClosed", err)
	}
}
