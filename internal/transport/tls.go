package transport

import (
	"crypto/x509"
	"fmt"
	"os"
)

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
