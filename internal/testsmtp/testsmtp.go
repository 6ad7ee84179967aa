// Package testsmtp runs a real SMTP server (github.com/emersion/go-smtp)
// on loopback for tests: plain, STARTTLS or implicit TLS, with AUTH PLAIN
// and LOGIN, recording what it receives as a mail reader would see it.
package testsmtp

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mode is how the server protects connections.
type Mode int

// The modes.
const (
	Plain       Mode = iota // no TLS offered
	STARTTLS                // STARTTLS offered
	ImplicitTLS             // TLS from the first byte
)

// Config describes a server. Cert is required for the TLS modes.
type Config struct {
	Mode       Mode
	Cert       *tls.Certificate
	Mechanisms []string // AUTH mechanisms offered: "PLAIN", "LOGIN"
	Users      map[string]string
	// InsecureAuth offers AUTH without TLS, as a careless server does.
	InsecureAuth bool
	// Reply answers the n-th DATA (from 1); nil or a nil result accepts.
	Reply func(n int) error
	// Listener, if set, is served instead of a new one on 127.0.0.1.
	Listener net.Listener
}

// Message is one email as received.
type Message struct {
	From    string
	To      []string
	User    string // who authenticated, if anyone
	TLS     bool
	Raw     []byte
	Header  mail.Header
	Subject string // RFC 2047 decoded
	Body    string // transfer decoding undone
}

// Server is a running server.
type Server struct {
	Addr     string
	Received chan *Message
	Sessions atomic.Int64
	logouts  chan struct{} // one per closed session
	cfg      Config
	datas    atomic.Int64
}

// Start serves until the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := &Server{Received: make(chan *Message, 100), logouts: make(chan struct{}, 1000), cfg: cfg}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = cfg.InsecureAuth
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0) // clients that hang up are the tests' business
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.Mode != Plain {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cfg.Cert}}
	}
	if cfg.Mode == ImplicitTLS {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Next returns the next message, failing the test after 10 s.
func (s *Server) Next(t testing.TB) *Message {
	t.Helper()
	select {
	case m := <-s.Received:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no email arrived")
		return nil
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.s.Sessions.Add(1)
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, conn: c, msg: &Message{TLS: isTLS}}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	msg  *Message
}

func (ss *session) AuthMechanisms() []string { return ss.s.cfg.Mechanisms }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if want, ok := ss.s.cfg.Users[user]; !ok || want != pass {
			return errors.New("bad credentials")
		}
		ss.msg.User = user
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case "LOGIN":
		return &loginServer{check: check}, nil
	}
	return nil, errors.New("unsupported mechanism")
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.msg.From = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if reply := ss.s.cfg.Reply; reply != nil {
		if err := reply(int(ss.s.datas.Add(1))); err != nil {
			return err
		}
	}
	_, isTLS := ss.conn.TLSConnectionState()
	m := *ss.msg
	m.Raw, m.TLS = raw, m.TLS || isTLS
	if pm, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Header = pm.Header
		m.Subject, _ = new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
		body, _ := io.ReadAll(pm.Body)
		switch strings.ToLower(pm.Header.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body, _ = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		case "base64":
			body, _ = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", ""))
		}
		m.Body = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	ss.s.Received <- &m
	return nil
}

func (ss *session) Reset() { ss.msg = &Message{TLS: ss.msg.TLS, User: ss.msg.User} }

func (ss *session) Logout() error {
	ss.s.logouts <- struct{}{}
	return nil
}

// AwaitLogouts waits until n sessions have ended, failing the test after
// 10 s: the server sees a client's close a moment after the client.
func (s *Server) AwaitLogouts(t testing.TB, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-s.logouts:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d sessions were closed", i, n)
		}
	}
}

// loginServer is the server side of AUTH LOGIN (username, then password).
type loginServer struct {
	mu    sync.Mutex
	user  string
	step  int
	check func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.step {
	case 0:
		l.step++
		if resp != nil {
			l.user, l.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user, l.step = string(resp), 2
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(resp))
}
