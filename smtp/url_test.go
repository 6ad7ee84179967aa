package smtp_test

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/internal/testsmtp"
	_ "github.com/netlog-go/netlog/smtp"
)

// TestOpenSMTP opens smtp:// and smtps:// against a real SMTP server, the
// password once in the URL and once from the environment.
func TestOpenSMTP(t *testing.T) {
	certs := testcert.New(t)
	users := map[string]string{"app": "s3cret"}
	t.Setenv("NETLOG_TEST_SMTP_PASSWORD", "s3cret")
	for _, c := range []struct {
		scheme string
		mode   testsmtp.Mode
		user   string
	}{
		{"smtp", testsmtp.STARTTLS, "app:s3cret@"},
		{"smtps", testsmtp.ImplicitTLS, "app@"},
	} {
		t.Run(c.scheme, func(t *testing.T) {
			srv := testsmtp.Start(t, testsmtp.Config{Mode: c.mode, Cert: &certs.Server, Mechanisms: []string{"PLAIN"}, Users: users})
			q := url.Values{"from": {"app@example.com"}, "to": {"ops@example.com,oncall@example.com"},
				"subject": {"alert"}, "per-record": {"true"}, "ca": {certs.CAFile}, "level": {"error"}}
			if c.user == "app@" {
				q.Set("password-env", "NETLOG_TEST_SMTP_PASSWORD")
			}
			h, err := netlog.Open(c.scheme+"://"+c.user+srv.Addr+"?"+q.Encode(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(context.Background())
			slog.New(h).Error("disk full")
			m := srv.Next(t)
			if m.User != "app" || !m.TLS || m.Subject != "alert" || len(m.To) != 2 || !strings.Contains(m.Body, "disk full") {
				t.Errorf("%+v", m)
			}
		})
	}
}

// TestOpenErrors: each malformed smtp:// URL is refused with an error
// naming what is wrong, and a password never appears in it.
func TestOpenErrors(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"smtp://mail.example.com?to=a@example.com", "missing from="},
		{"smtp://mail.example.com?from=a@example.com", "missing to="},
		{"smtp://u:hunter2@mail.example.com?from=a@example.com&to=b@example.com&plaintext=true", "plaintext"},
		{"smtp://mail.example.com?from=a@example.com&to=b@example.com&async=true", "async"},
		{"smtp://mail.example.com?from=a@example.com&to=b@example.com&password-env=NETLOG_TEST_NOT_SET", "NETLOG_TEST_NOT_SET"},
		{"smtp:///x?from=a@example.com&to=b@example.com", "missing mail host"},
		{"smtps://u:hunter2@mail.example.com/x?from=a@example.com&to=b@example.com", `path "/x"`},
		{"smtps://u:hunter2@mail.example.com:0?from=a@example.com&to=b@example.com&bogus=1", `unknown parameter "bogus"`},
		{"smtps://u:hunter2@mail.example.com?from=a@example.com&to=b@example.com&trigger=loud", `"loud"`},
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
