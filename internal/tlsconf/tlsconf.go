// Package tlsconf is the client side of TLS that every netlog destination
// over TLS shares (package tlsclient's "tls" networks, package smtp):
// verified unless the user turns it off, TLS 1.2 at least, CAs from a
// PEM file; and which failures are TLS's. The root package does not
// import it, so that a program that never uses TLS does not link
// crypto/tls.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/urlquery"
)

// A program that links crypto/tls through netlog imports this package:
// TLS failures can happen, and the root package's errors name them.
func init() { plug.IsTLSError = IsError }

// Client is the configuration for a connection to address (host:port or
// host) from base (nil: the defaults, which verify against the system's
// roots): TLS 1.2 at least, the server name from the address unless base
// names one.
func Client(base *tls.Config, address string) *tls.Config {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	if cfg.ServerName == "" {
		cfg.ServerName = address
		if host, _, err := net.SplitHostPort(address); err == nil {
			cfg.ServerName = host
		}
	}
	return cfg
}

// Config is the *tls.Config that a plug hook's config holds; nil stays
// nil.
func Config(config any) *tls.Config {
	c, _ := config.(*tls.Config)
	return c
}

// LoadCAs reads a PEM bundle of CA certificates, for verifying a peer.
func LoadCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%q holds no PEM certificate", path)
	}
	return pool, nil
}

// Params reads a URL's TLS parameters, ca (a PEM file of the CAs that
// may sign the server's certificate) and insecure-skip-verify, over base
// (nil: the defaults), and returns the configuration to use: base itself
// if neither is given. A CA file that cannot be read fails q's ca.
func Params(q *urlquery.Query, base *tls.Config) *tls.Config {
	ca, insecure := q.Str("ca"), q.Bool("insecure-skip-verify")
	if ca == "" && !insecure {
		return base
	}
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	cfg.InsecureSkipVerify = cfg.InsecureSkipVerify || insecure
	if ca != "" {
		pool, err := LoadCAs(ca)
		if err != nil {
			q.Fail("ca", ca, err)
		}
		cfg.RootCAs = pool
	}
	return cfg
}

// IsError reports whether err is a TLS failure: a certificate that did
// not verify, an alert sent or received (crypto/tls reports the peer's
// as a *net.OpError "remote error"), or a peer that does not speak TLS.
func IsError(err error) bool {
	var (
		verify *tls.CertificateVerificationError
		alert  tls.AlertError
		header tls.RecordHeaderError
		op     *net.OpError
	)
	return errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &header) ||
		errors.As(err, &op) && op.Op == "remote error"
}
