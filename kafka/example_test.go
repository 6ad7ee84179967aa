package kafka_test

import (
	"context"
	"log/slog"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/kafka"
)

// A program logs to a Kafka topic through netlog.Open; its records queue
// while the brokers are away and count as written once Kafka
// acknowledged them.
func Example() {
	h, err := netlog.Open("kafka://127.0.0.1:9092/logs?key=name&compression=zstd", &netlog.Options{Name: "billing"})
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background()) // delivers what is queued, for at most 5 s
	slog.SetDefault(slog.New(h))
	slog.Info("invoice sent", "invoice", 1042)
}

// New takes the brokers, the topic and the options in Go rather than a URL.
func ExampleNew() {
	h, err := kafka.New([]string{"broker1:9092", "broker2:9092"}, "logs", &kafka.Options{
		Options: netlog.Options{Name: "billing"},
		Key:     kafka.KeyName,
	})
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background())
	slog.New(h).Warn("disk almost full", "free", "2%")
}
