package otlp_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

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

// TestPartialSuccess: records an endpoint takes but rejects (an OTLP
// partial success, which a Collector does not give on demand: a local
// HTTP server answers it) are reported through OnError and LastError,
// matching netlog.ErrRefused, with their count.
func TestPartialSuccess(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		ps := protowire.AppendTag(nil, 1, protowire.VarintType)
		ps = protowire.AppendVarint(ps, 1)
		ps = protowire.AppendString(protowire.AppendTag(ps, 2, protowire.BytesType), "too old")
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), ps))
	}))
	defer srv.Close()
	reported := make(chan error, 10)
	h, err := netlog.Open("otlp+"+srv.URL, &netlog.Options{OnError: func(err error) { reported <- err }})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "old", 0)); err != nil {
		t.Fatal(err)
	}
	var ne *netlog.Error
	select {
	case err := <-reported:
		if !errors.As(err, &ne) || !errors.Is(err, netlog.ErrRefused) || ne.Records != 1 || !strings.Contains(err.Error(), "too old") {
			t.Errorf("OnError got %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no error reported")
	}
	if st := h.Stats(); !errors.Is(st.LastError, netlog.ErrRefused) || st.Written != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestHeadersEnv: headers-env names a variable in the form of
// OTEL_EXPORTER_OTLP_HEADERS; each request carries its headers.
func TestHeadersEnv(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- r.Header
	}))
	defer srv.Close()
	t.Setenv("TEST_OTLP_HEADERS", "api-key=s3cr%C3%A9t, x-team = ops")
	h, err := netlog.Open("otlp+"+srv.URL+"?headers-env=TEST_OTLP_HEADERS", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)); err != nil {
		t.Fatal(err)
	}
	if hd := <-got; hd.Get("Api-Key") != "s3crét" || hd.Get("X-Team") != "ops" || hd.Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("headers %v", hd)
	}
	t.Setenv("TEST_OTLP_BAD", "novalue,k=v")
	for env, want := range map[string]string{"TEST_OTLP_UNSET": "not set", "TEST_OTLP_BAD": "entry 1"} {
		_, err := netlog.Open("otlp+"+srv.URL+"?headers-env="+env, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", env, err, want)
		}
	}
}
