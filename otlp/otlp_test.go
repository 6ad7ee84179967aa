package otlp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/otlp"
)

// TestOpenErrors: a bad URL or parameter is an error that names it.
func TestOpenErrors(t *testing.T) {
	for url, want := range map[string]string{
		"otlp+http://127.0.0.1:4318?bogus=1":                   `unknown parameter "bogus"`,
		"otlp+http://127.0.0.1:4318?insecure-skip-verify=true": `unknown parameter "insecure-skip-verify"`,
		"otlp+http://127.0.0.1:4318?gzip=maybe":                `gzip="maybe"`,
		"otlp+http://127.0.0.1:4318?buffer=10":                 `buffer="10": applies only with async=true`,
		"otlp+http:///v1/logs":                                 "want otlp+http://host:port",
		"otlp+https://user:secret@127.0.0.1:4318":              "no user",
	} {
		h, err := netlog.Open(url, nil)
		if err == nil {
			h.Close(context.Background())
			t.Errorf("%s: no error", url)
			continue
		}
		if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: %v, want %q", url, err, want)
		}
	}
	for _, endpoint := range []string{"127.0.0.1:4318", "ftp://127.0.0.1", "http://u@127.0.0.1:4318", "http://127.0.0.1:4318?x=1"} {
		if _, err := otlp.New(endpoint, nil); err == nil {
			t.Errorf("New(%q): no error", endpoint)
		}
	}
}
