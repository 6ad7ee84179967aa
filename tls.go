package netlog

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/netlog-go/netlog/internal/transport"
)

// clientTLS is the TLS configuration for a connection to address (host:port
// or host) from o: verified against CAFile, TLS.RootCAs or the system's
// roots, TLS 1.2 at least, the server name from the address.
func clientTLS(address string, o *Options) (*tls.Config, error) {
	cfg := &tls.Config{}
	if o.TLS != nil {
		cfg = o.TLS.Clone()
	}
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	if cfg.ServerName == "" {
		cfg.ServerName = address
		if host, _, err := net.SplitHostPort(address); err == nil {
			cfg.ServerName = host
		}
	}
	if o.CAFile != "" {
		pool, err := transport.LoadCAs(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
