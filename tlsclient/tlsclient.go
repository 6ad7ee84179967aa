// Package tlsclient makes the TLS settings of netlog's handlers
// (netlog.Options.TLS) from a *tls.Config and a CA file, and gives
// package netlog its TLS: a program that imports it can use the "tls"
// and "relp+tls" networks of NewSocketHandler and NewSyslogHandler with
// the default settings (Options.TLS nil), and netlog.Open knows tls://,
// syslog+tls:// and syslog+relp+tls://:
//
//	import _ "github.com/netlog-go/netlog/tlsclient"
//
// Whatever the settings, the server's certificate is verified unless
// InsecureSkipVerify is set, and the minimum version is TLS 1.2.
//
// It is a package of its own so that a program that never uses TLS does
// not link crypto/tls and crypto/x509 (about 3.3 MB): package netlog
// does not import them. Package netlog/smtp links them anyway and takes
// the same settings.
package tlsclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/tlsconf"
	"github.com/netlog-go/netlog/internal/urlquery"
)

func init() {
	plug.DialTLS = dial
	plug.TLSParams = func(q *urlquery.Query, config any) any { return tlsconf.Params(q, tlsconf.Config(config)) }
}

// New returns TLS settings for netlog.Options.TLS: a copy of cfg (nil
// for the defaults: the system's roots), its MinVersion raised to TLS
// 1.2, verifying the server's certificate unless cfg.InsecureSkipVerify
// is set; the server name is the destination's host unless
// cfg.ServerName is set. caFile, if not "", names a PEM bundle of the CAs
// that may sign the server's certificate, in place of cfg.RootCAs; it is
// read now. Set cfg.Certificates to authenticate to a server that asks.
func New(cfg *tls.Config, caFile string) (*netlog.TLS, error) {
	c := &tls.Config{}
	if cfg != nil {
		c = cfg.Clone()
	}
	if caFile != "" {
		pool, err := tlsconf.LoadCAs(caFile)
		if err != nil {
			return nil, fmt.Errorf("netlog: CA file: %w", err)
		}
		c.RootCAs = pool
	}
	return plug.NewTLS(c).(*netlog.TLS), nil
}

// dial is plug.DialTLS.
func dial(config any, address string) func(ctx context.Context) (net.Conn, error) {
	d := &tls.Dialer{Config: tlsconf.Client(tlsconf.Config(config), address)}
	return func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", address) }
}
