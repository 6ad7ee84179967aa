// Package testcert makes a throwaway CA, a server certificate for
// 127.0.0.1, ::1 and localhost, and a client certificate, for TLS tests.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Set is a CA and two certificates it signed, as files and in memory.
type Set struct {
	Dir                   string
	CAFile                string // PEM
	CertFile, KeyFile     string // the server's, PEM
	ClientCert, ClientKey string // the client's, PEM
	Pool                  *x509.CertPool
	Server, Client        tls.Certificate
}

// New writes a Set into a temporary directory. name is the server's DNS
// name besides localhost.
func New(t testing.TB) *Set {
	t.Helper()
	s := &Set{Dir: t.TempDir(), Pool: x509.NewCertPool()}
	caKey := key(t)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "netlog test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	s.Pool.AddCert(ca)
	s.CAFile = s.write(t, "ca.pem", "CERTIFICATE", caDER)
	s.Server, s.CertFile, s.KeyFile = s.leaf(t, "server", ca, caKey, x509.ExtKeyUsageServerAuth)
	s.Client, s.ClientCert, s.ClientKey = s.leaf(t, "client", ca, caKey, x509.ExtKeyUsageClientAuth)
	return s
}

func key(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (s *Set) leaf(t testing.TB, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, usage x509.ExtKeyUsage) (tls.Certificate, string, string) {
	k := key(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kDER, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile := s.write(t, name+".pem", "CERTIFICATE", der)
	keyFile := s.write(t, name+"-key.pem", "EC PRIVATE KEY", kDER)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certFile, keyFile
}

func (s *Set) write(t testing.TB, name, typ string, der []byte) string {
	p := filepath.Join(s.Dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
