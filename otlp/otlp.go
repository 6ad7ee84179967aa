// Package otlp sends slog records to an OpenTelemetry Collector, or any
// endpoint that takes OTLP logs over HTTP, as OTLP log records (protobuf,
// POST /v1/logs), with the same queue, counters and error reports as
// netlog's socket handlers.
//
// Importing it adds the schemes otlp+http and otlp+https to netlog.Open
// (and so to netlog serve's outputs):
//
//	import _ "github.com/netlog-go/netlog/otlp"
//
//	h, err := netlog.Open("otlp+http://127.0.0.1:4318?async=true&service=billing", nil)
//
// A record's severity, message, time, attributes (groups as dotted keys),
// source, thread, process and exception become the LogRecord's fields and
// semantic-convention attributes; docs/otlp.md has the whole mapping.
package otlp

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/otlp"
	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/tlsconf"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/internal/urlquery"
)

func init() {
	netlog.RegisterScheme("otlp+http", open)
	netlog.RegisterScheme("otlp+https", open)
}

// Options configures an OTLP handler.
type Options struct {
	// Options are the handler's: Level, Name, AddSource, ReplaceAttr,
	// DialTimeout, WriteTimeout (one request, answer included), Backoff,
	// Async (recommended: without it each record is a request of its
	// own, made on the caller's goroutine), OnError; TLS (from
	// tlsclient.New) for https. Codec and MaxDatagram do not apply.
	netlog.Options
	// Service is the resource's service.name; "" means each record's
	// logger name (Options.Name for a Go program's records).
	Service string
	// Gzip compresses each request's body.
	Gzip bool
	// Header is added to each request: the API key or authorization an
	// endpoint asks for. Content-Type and Content-Encoding are the
	// handler's.
	Header http.Header
}

// New returns a handler that posts records to endpoint, an OTLP/HTTP
// URL: http://host:4318 or https://…, to which /v1/logs is added if it
// has no path. It connects on the first record.
func New(endpoint string, opts *Options) (netlog.Handler, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("netlog/otlp: endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("netlog/otlp: endpoint %q: want http://host:port or https://host:port, with an optional path and no user or query", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/logs"
	}
	cfg := otlp.Config{
		URL: u.String(), Service: o.Service, Gzip: o.Gzip, Header: o.Header.Clone(),
		DialTimeout: o.DialTimeout, WriteTimeout: o.WriteTimeout, Backoff: transport.Backoff(o.Backoff),
	}
	if u.Scheme == "https" {
		// Verified, TLS 1.2 at least, as every netlog TLS destination.
		cfg.TLS = tlsconf.Client(tlsconf.Config(plug.TLSConfig(o.TLS)), u.Host)
	}
	var h any
	cfg.OnRejected = func(n, total int64, msg string) {
		plug.Report(h, int(n), fmt.Errorf("%w: %d records (%d in all) rejected in a partial success: %s", transport.ErrRefused, n, total, msg))
	}
	s, err := otlp.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("netlog/otlp: %w", err)
	}
	dest := "otlp " + u.String()
	h, err = plug.Handler(&o.Options, dest, s, 0)
	if err != nil {
		return nil, fmt.Errorf("netlog/otlp: %s: %w", dest, err)
	}
	return h.(netlog.Handler), nil
}

// open is netlog.Open's Opener for otlp+http://host:port/path?… and
// otlp+https://….
func open(u *url.URL, opts *netlog.Options) (netlog.Handler, error) {
	o := Options{Options: *opts}
	q := urlquery.New(u.Query())
	plug.Params(q, &o.Options)
	o.Service = q.Str("service")
	o.Gzip = q.Bool("gzip")
	if env := q.Str("headers-env"); env != "" {
		h, err := headersFromEnv(env)
		if err != nil {
			return nil, fmt.Errorf("netlog: %s: headers-env: %w", u.Scheme, err)
		}
		o.Header = h
	}
	if u.Scheme == "otlp+https" {
		if c := tlsconf.Params(q, tlsconf.Config(plug.TLSConfig(o.TLS))); c != nil {
			o.TLS = plug.NewTLS(c).(*netlog.TLS)
		}
	}
	if err := q.Done(u.Scheme); err != nil {
		return nil, fmt.Errorf("netlog: %w", err)
	}
	if u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("netlog: %s URL: want %s://host:port, with an optional path and no user", u.Scheme, u.Scheme)
	}
	endpoint := url.URL{Scheme: u.Scheme[len("otlp+"):], Host: u.Host, Path: u.Path}
	return New(endpoint.String(), &o)
}

// headersFromEnv reads request headers from the environment variable
// env, in the form of OpenTelemetry's OTEL_EXPORTER_OTLP_HEADERS:
// "key1=value1,key2=value2", values percent-encoded. The headers stay out
// of the URL, which may be logged or shown; so does their text here.
func headersFromEnv(env string) (http.Header, error) {
	text, ok := os.LookupEnv(env)
	if !ok {
		return nil, fmt.Errorf("environment variable %s is not set", env)
	}
	h := http.Header{}
	for i, pair := range strings.Split(text, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if !ok || k == "" || err != nil {
			return nil, fmt.Errorf("environment variable %s: entry %d is not key=value (percent-encoded)", env, i+1)
		}
		h.Add(k, value)
	}
	return h, nil
}
