package otlp_test

import (
	"context"
	"log/slog"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/otlp"
)

// A program logs to an OpenTelemetry Collector's OTLP/HTTP receiver; its
// records queue while the Collector is away.
func Example() {
	h, err := netlog.Open("otlp+http://127.0.0.1:4318?async=true&service=billing&level=debug", nil)
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background()) // delivers what is queued, for at most 5 s
	slog.SetDefault(slog.New(h))
	slog.Info("invoice sent", "invoice", 1042, slog.Group("customer", "id", 7))
}

// New takes the endpoint and options in Go rather than a URL.
func ExampleNew() {
	h, err := otlp.New("https://otel.example.com:4318", &otlp.Options{
		Options: netlog.Options{Name: "billing", Async: &netlog.Async{}},
		Gzip:    true,
	})
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background())
	slog.New(h).Warn("disk almost full", "free", "2%")
}
