package netlog_test

import (
	"crypto/tls"
	"testing"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/tlsclient"
)

// clientTLS is tlsclient.New that fails t on an error.
func clientTLS(t testing.TB, cfg *tls.Config, caFile string) *netlog.TLS {
	t.Helper()
	c, err := tlsclient.New(cfg, caFile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
