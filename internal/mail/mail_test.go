package mail

import (
	"strings"
	"testing"
	"time"
)

func TestHeaderText(t *testing.T) {
	for in, want := range map[string]string{
		"x\r\nBcc: victim@example.com": "x  Bcc: victim@example.com",
		"tab\there\x00nul\x7fdel":      "tab here nul del",
		"bad \xff utf8, line\u2028sep": "bad   utf8, line sep",
		"Störung ✓":                    "Störung ✓",
	} {
		if got := HeaderText(in); got != want {
			t.Errorf("HeaderText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseHost(t *testing.T) {
	for in, want := range map[string]struct {
		host string
		port int
	}{
		"smtp.example.com": {"smtp.example.com", 0}, "smtp.example.com:465": {"smtp.example.com", 465},
		"[::1]:25": {"::1", 25}, "[::1]": {"::1", 0},
	} {
		h, p, err := ParseHost(in)
		if err != nil || h != want.host || p != want.port {
			t.Errorf("ParseHost(%q) = %q, %d, %v; want %q, %d", in, h, p, err, want.host, want.port)
		}
	}
	for _, bad := range []string{"host:0", "host:99999", "host:smtp", "a:b:c"} {
		if _, _, err := ParseHost(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseHost(%q): %v", bad, err)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	for _, c := range []struct {
		in       Config
		security Security
		port     int
	}{
		{Config{Host: "h"}, STARTTLS, 587},
		{Config{Host: "h", Port: 465}, ImplicitTLS, 465},
		{Config{Host: "h", Security: Plaintext}, Plaintext, 25},
		{Config{Host: "h", Security: ImplicitTLS}, ImplicitTLS, 465},
	} {
		cfg := c.in
		if err := cfg.Check(); err != nil || cfg.Security != c.security || cfg.Port != c.port || cfg.Timeout != 5*time.Second {
			t.Errorf("%+v → %+v, %v", c.in, cfg, err)
		}
	}
	for _, bad := range []Config{{}, {Host: "h", Security: "ssl3"}, {Host: "h", Security: Plaintext, Username: "u"}} {
		if err := bad.Check(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := &Limiter{Max: 3, Per: time.Minute}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Second)
		if next := l.Next(at); !next.Equal(at) {
			t.Fatalf("event %d held until %v", i, next)
		}
		l.Take(at)
	}
	if next := l.Next(t0.Add(10 * time.Second)); !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("4th event allowed at %v, want a minute after the 1st", next)
	}
	l.Take(t0.Add(time.Minute))
	if next := l.Next(t0.Add(time.Minute)); !next.Equal(t0.Add(time.Minute + time.Second)) {
		t.Errorf("5th event allowed at %v, want a minute after the 2nd", next)
	}
}
