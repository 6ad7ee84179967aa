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

	"github.com/netlog-go/netlog/internal/urlquery"
)

// Client is the configuration for a connection to address (host:port or
// host) from base (nil: the system's roots): verified against caFile,
// base.RootCAs or the system's roots, TLS 1.2 at least, the server name
// from the address unless base names one.
func Client(base *tls.Config, caFile, address string) (*tls.Config, error) {
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
	if caFile != "" {
		pool, err := LoadCAs(caFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
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

// Params reads a URL's TLS parameters: ca (a PEM file of CAs) and
// insecure-skip-verify. given reports whether either was there.
func Params(q *urlquery.Query) (caFile string, insecure, given bool) {
	caFile, insecure = q.Str("ca"), q.Bool("insecure-skip-verify")
	return caFile, insecure, q.Has("ca") || q.Has("insecure-skip-verify")
}

// IsError reports whether err is a TLS failure: a certificate that did
// not verify, an alert, or a peer that does not speak TLS.
func IsError(err error) bool {
	var (
		verify *tls.CertificateVerificationError
		alert  tls.AlertError
		header tls.RecordHeaderError
	)
	return errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &header)
}
