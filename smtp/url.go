package smtp

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/tlsconf"
	"github.com/netlog-go/netlog/internal/urlquery"
)

// The schemes this package adds to netlog.Open:
//
//	smtp://user:pass@host:port?from=…&to=…   NewHandler with STARTTLS (plaintext=true: none)
//	smtps://user:pass@host:port?from=…&to=…  NewHandler with implicit TLS
func init() {
	netlog.RegisterScheme("smtp", open)
	netlog.RegisterScheme("smtps", open)
}

// open is the netlog.Opener of smtp:// and smtps://; opts holds Open's
// defaults, of which those that do not apply to SMTP are ignored.
func open(u *url.URL, opts *netlog.Options) (netlog.Handler, error) {
	o, err := fromURL(u, *opts)
	if err != nil {
		return nil, fmt.Errorf("netlog: URL %q: %w", u.Redacted(), err)
	}
	return NewHandler(u.Host, o)
}

// fromURL reads the handler's options from the URL over defaults.
func fromURL(u *url.URL, defaults netlog.Options) (*Options, error) {
	switch {
	case u.Host == "":
		return nil, errors.New("missing mail host")
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("path %q does not apply to %s", u.Path, u.Scheme)
	}
	p := urlquery.New(u.Query())
	o := defaults
	o.Codec, o.WriteTimeout, o.MaxDatagram, o.Async = "", 0, 0, nil
	plug.BasicParams(p, &o)
	so := &Options{Options: o, From: p.Str("from"), Subject: p.Str("subject"),
		PerRecord: p.Bool("per-record"), Context: p.Int("context"), MaxEmails: p.Int("max-emails"),
		Per: p.Duration("per"), Queue: p.Int("queue"), Trigger: p.Level("trigger")}
	if c := tlsconf.Params(p, tlsconf.Config(plug.TLSConfig(o.TLS))); c != nil {
		so.TLS = plug.NewTLS(c).(*netlog.TLS)
	}
	for _, to := range p.List("to") {
		so.To = append(so.To, strings.Split(to, ",")...)
	}
	so.Security = STARTTLS
	if u.Scheme == "smtps" {
		so.Security = ImplicitTLS
	} else if p.Bool("plaintext") {
		so.Security = Plaintext
	}
	env := p.Str("password-env")
	if err := p.Done(u.Scheme); err != nil {
		return nil, err
	}
	switch {
	case so.From == "":
		return nil, errors.New("missing from= (the sender's address)")
	case len(so.To) == 0:
		return nil, errors.New("missing to= (one or more recipients, comma-separated or repeated)")
	}
	if u.User != nil {
		so.Username = u.User.Username()
		so.Password, _ = u.User.Password()
	}
	if env != "" {
		pw, ok := os.LookupEnv(env)
		if !ok {
			return nil, fmt.Errorf("password-env: environment variable %s is not set", env)
		}
		so.Password = pw
	}
	return so, nil
}
