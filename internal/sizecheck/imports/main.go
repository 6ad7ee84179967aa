// Command imports imports netlog and nothing else of its own, and prints
// every pattern that package initialisation registered on
// http.DefaultServeMux, and every destination whose package is not
// imported that fails to say which package it needs, for
// TestNoImportSideEffects: it prints nothing when all is well.
package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/netlog-go/netlog"
)

func main() {
	for _, path := range []string{"/debug/vars", "/debug/pprof/", "/metrics", "/"} {
		if _, pattern := http.DefaultServeMux.Handler(httptest.NewRequest("GET", path, nil)); pattern != "" {
			fmt.Println(path, "is served by", pattern)
		}
	}
	_, err := netlog.NewSocketHandler("tls", "127.0.0.1:9", nil)
	needs(err, "NewSocketHandler(tls)", "netlog/tlsclient")
	for url, pkg := range map[string]string{
		"tls://127.0.0.1:9":                                       "netlog/tlsclient",
		"syslog+tls://127.0.0.1:9?ca=/ca.pem":                     "netlog/tlsclient",
		"smtps://127.0.0.1:9?from=a@example.com&to=b@example.com": "netlog/smtp",
		"kafka://127.0.0.1:9/logs":                                "netlog/kafka",
		"otlp+https://127.0.0.1:9":                                "netlog/otlp",
	} {
		_, err := netlog.Open(url, nil)
		needs(err, url, pkg)
	}
}

// needs prints what, unless err names pkg.
func needs(err error, what, pkg string) {
	if err == nil || !strings.Contains(err.Error(), pkg) {
		fmt.Printf("%s without %s: %v, want an error naming it\n", what, pkg, err)
	}
}
