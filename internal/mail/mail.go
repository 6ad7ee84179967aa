// Package mail delivers alert emails over SMTP for the SMTP handler:
// connection security (implicit TLS, STARTTLS, verified certificates),
// authentication, header-safe composition, the classification of failures
// into temporary and permanent, and a rate limiter.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Security is how the connection to the server is protected.
type Security string

// The security modes.
const (
	// STARTTLS upgrades a plain connection (port 587 by default) and fails
	// if the server does not offer it: no silent downgrade.
	STARTTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (SMTPS, port 465; RFC 8314).
	ImplicitTLS Security = "tls"
	// Plaintext sends in the clear (port 25 by default); never with a
	// password.
	Plaintext Security = "plaintext"
)

// ErrTemporary marks a failure worth retrying: the server could not be
// reached, or answered 4xx.
var ErrTemporary = errors.New("temporary failure")

// Config describes the server and how to talk to it.
type Config struct {
	Host     string // host name or address
	Port     int    // 0: 465 for ImplicitTLS, 587 for STARTTLS, 25 for Plaintext
	Security Security
	Username string // empty: no AUTH
	Password string
	TLS      *tls.Config // verification settings; ServerName defaults to Host
	Timeout  time.Duration
}

// Check validates c and fills its defaults.
func (c *Config) Check() error {
	switch c.Security {
	case "":
		c.Security = STARTTLS
		if c.Port == 465 {
			c.Security = ImplicitTLS
		}
	case STARTTLS, ImplicitTLS, Plaintext:
	default:
		return fmt.Errorf("unknown security %q (want starttls, tls or plaintext)", c.Security)
	}
	if c.Host == "" {
		return errors.New("empty mail host")
	}
	if c.Username != "" && c.Security == Plaintext {
		return errors.New("credentials over a plaintext connection: a password is never sent unencrypted (use starttls or tls)")
	}
	if c.Port == 0 {
		c.Port = map[Security]int{ImplicitTLS: 465, STARTTLS: 587, Plaintext: 25}[c.Security]
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("port %d is outside 1-65535", c.Port)
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	return nil
}

// ParseHost splits "host" or "host:port" (Python's mailhost).
func ParseHost(mailhost string) (host string, port int, err error) {
	if !strings.Contains(mailhost, ":") || strings.HasSuffix(mailhost, "]") && strings.HasPrefix(mailhost, "[") {
		return strings.Trim(mailhost, "[]"), 0, nil
	}
	h, p, err := net.SplitHostPort(mailhost)
	if err != nil {
		return "", 0, fmt.Errorf("bad mail host %q: %w", mailhost, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("bad mail host %q: port %q", mailhost, p)
	}
	return h, n, nil
}

// Message is one email.
type Message struct {
	From    string
	To      []string
	Subject string // sanitised by Send
	Body    string // text/plain, UTF-8
}

// Send delivers m. Its error wraps ErrTemporary when a retry may succeed.
// The connection is closed on every path.
func Send(ctx context.Context, c *Config, m *Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return fmt.Errorf("from %q: %w", m.From, err)
	}
	if err := msg.To(m.To...); err != nil {
		return fmt.Errorf("to %q: %w", m.To, err)
	}
	msg.Subject(HeaderText(m.Subject))
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	client, err := gomail.NewClient(c.Host, clientOptions(ctx, c)...)
	if err != nil {
		return err
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		client.Close()
		return classify(err)
	}
	return nil
}

// dialer opens connections — with TLS from the first byte for implicit
// TLS, which go-mail leaves to a dial function of its user — that close
// when send ends: go-mail heeds a context only while dialling (with one of
// its own), and a server that stops answering must not hold a send past
// its deadline.
func dialer(send context.Context, c *Config, tc *tls.Config) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(send, func() { conn.Close() })
		if c.Security != ImplicitTLS {
			return conn, nil
		}
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tconn, nil
	}
}

func clientOptions(send context.Context, c *Config) []gomail.Option {
	tc := &tls.Config{}
	if c.TLS != nil {
		tc = c.TLS.Clone()
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
	if tc.ServerName == "" {
		tc.ServerName = c.Host
	}
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(c.Timeout), gomail.WithTLSConfig(tc),
		gomail.WithDialContextFunc(dialer(send, c, tc))}
	switch c.Security {
	case ImplicitTLS: // the dialer does the TLS; no STARTTLS inside it
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case STARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithUsername(c.Username), gomail.WithPassword(c.Password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	return opts
}

// classify wraps err in ErrTemporary for a failure a retry may cure: no
// connection, a timeout, or a 4xx reply. TLS and certificate failures and
// 5xx replies are permanent.
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if se.IsTemp() || se.ErrorCode() >= 400 && se.ErrorCode() < 500 {
			return fmt.Errorf("%w: %w", ErrTemporary, err)
		}
		if se.ErrorCode() == 0 && isNetwork(err) {
			return fmt.Errorf("%w: %w", ErrTemporary, err)
		}
		return err
	}
	if isNetwork(err) {
		return fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	return err
}

func isNetwork(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return false
	}
	return errors.As(err, &oe) || errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// HeaderText makes s safe for a header's body: CR, LF, every other control
// character and invalid UTF-8 become spaces, so that nothing from a log
// record can end a header or start another.
func HeaderText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
}

// Limiter allows at most Max events in any Per-long window.
type Limiter struct {
	Max  int
	Per  time.Duration
	sent []time.Time // the last Max events, oldest first
}

// Next returns when the next event is allowed: now, or later.
func (l *Limiter) Next(now time.Time) time.Time {
	if len(l.sent) < l.Max {
		return now
	}
	if at := l.sent[0].Add(l.Per); at.After(now) {
		return at
	}
	return now
}

// Take records an event at now.
func (l *Limiter) Take(now time.Time) {
	if len(l.sent) == l.Max {
		l.sent = l.sent[1:]
	}
	l.sent = append(l.sent, now)
}
