package netlog

import (
	"context"
	"errors"
	"net"

	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/urlquery"
)

// TLS is the client side of TLS for Options.TLS, made by
// github.com/netlog-go/netlog/tlsclient's New from a *tls.Config and a CA
// file; the zero TLS means the defaults. It is opaque, and its maker a
// package of its own, so that importing netlog does not link crypto/tls
// into a program that never uses TLS (about 3.3 MB).
type TLS struct {
	config any // a *tls.Config; nil: the defaults
}

// errNoTLS: the program links no TLS.
var errNoTLS = errors.New(`TLS needs package github.com/netlog-go/netlog/tlsclient: import it, or import _ "github.com/netlog-go/netlog/tlsclient" for the defaults`)

// tlsDialer returns how to connect to address over TLS as o says.
func tlsDialer(address string, o *Options) (func(context.Context) (net.Conn, error), error) {
	if plug.DialTLS == nil {
		return nil, errNoTLS
	}
	return plug.DialTLS(o.TLS.cfg(), address), nil
}

// cfg is t's *tls.Config as plug's hooks take it; nil for nil.
func (t *TLS) cfg() any {
	if t == nil {
		return nil
	}
	return t.config
}

// tlsParams reads a URL's TLS parameters (ca, insecure-skip-verify)
// into o.
func tlsParams(p *urlquery.Query, o *Options) error {
	if plug.TLSParams == nil {
		return errNoTLS
	}
	if c := plug.TLSParams(p, o.TLS.cfg()); c != o.TLS.cfg() {
		o.TLS = &TLS{config: c}
	}
	return nil
}
