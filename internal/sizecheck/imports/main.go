// Command imports imports netlog and nothing else of its own, and prints
// every pattern that package initialisation registered on
// http.DefaultServeMux, for TestNoImportSideEffects.
package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	_ "github.com/netlog-go/netlog"
)

func main() {
	for _, path := range []string{"/debug/vars", "/debug/pprof/", "/metrics", "/"} {
		if _, pattern := http.DefaultServeMux.Handler(httptest.NewRequest("GET", path, nil)); pattern != "" {
			fmt.Println(path, "is served by", pattern)
		}
	}
}
