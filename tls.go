package netlog

import (
	"crypto/tls"

	"github.com/netlog-go/netlog/internal/tlsconf"
)

// clientTLS is the TLS configuration for a connection to address.
func clientTLS(address string, o *Options) (*tls.Config, error) {
	return tlsconf.Client(o.TLS, o.CAFile, address)
}
