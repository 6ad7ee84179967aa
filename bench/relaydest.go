package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/netlog-go/netlog/internal/peer"
)

// The relay suite's destinations other than rsyslog, started as
// internal/peer starts them for the interop tests.

// benchTopic is the Kafka topic of the Kafka rows.
const benchTopic = "bench"

// kafkaDest runs franz-go's kfake broker (internal/peer/kfake), in
// memory, with benchTopic (one partition); a franz-go consumer counts
// the records in it.
func kafkaDest(dir string) (*daemon, error) {
	bin, err := peer.KfakeBin()
	if err != nil {
		return nil, err
	}
	addr, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	d := &daemon{addr: addr, newCounter: func() (counter, error) { return consumeKafka(addr, benchTopic) }}
	return launch(exec.CommandContext(context.Background(), bin, "-port", port(addr), "-topic", benchTopic), d, dir, false)
}

// collectorDest runs the OpenTelemetry Collector of the interop tests
// (internal/peer/otelcol), its file exporter writing dir/logs.jsonl, a
// batch of records a line.
func collectorDest(dir string) (*daemon, error) {
	bin, err := peer.CollectorBin()
	if err != nil {
		return nil, err
	}
	addr, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	out, conf := filepath.Join(dir, "logs.jsonl"), filepath.Join(dir, "otelcol.yaml")
	if err := os.WriteFile(conf, []byte(peer.CollectorConfig(addr, out, peer.CollectorOptions{})), 0o644); err != nil {
		return nil, err
	}
	d := &daemon{addr: addr, out: out, newCounter: func() (counter, error) {
		return &lineCounter{path: out, recordsIn: otlpRecords}, nil
	}}
	return launch(exec.CommandContext(context.Background(), bin, "--config", conf), d, dir, false)
}

// otlpRecords counts the log records in lines of the collector's file
// by their observedTimeUnixNano key, which netlog's OTLP output sets on
// every record (docs/otlp.md) and which cannot occur unescaped in a
// value. Decoding each line (protojson, as internal/peer does for the
// tests) took the bench process more CPU than the relay and the
// collector together, on the same two cores.
func otlpRecords(lines []byte) int64 {
	return int64(bytes.Count(lines, []byte(`"observedTimeUnixNano":`)))
}

// kafkaCounter counts the records of a topic as a franz-go consumer
// fetches them, from the first offset on.
type kafkaCounter struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
	n      atomic.Int64
	err    atomic.Pointer[error] // the first fetch error
	seen   int64                 // n at the last update
}

func consumeKafka(addr, topic string) (*kafkaCounter, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &kafkaCounter{cl: cl, cancel: cancel, done: make(chan struct{})}
	go c.consume(ctx)
	return c, nil
}

func (c *kafkaCounter) consume(ctx context.Context) {
	defer close(c.done)
	for ctx.Err() == nil {
		fs := c.cl.PollFetches(ctx)
		c.n.Add(int64(fs.NumRecords()))
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.Canceled) {
				c.err.CompareAndSwap(nil, &e.Err)
			}
		}
	}
}

func (c *kafkaCounter) update() (bool, error) {
	n := c.n.Load()
	grew := n > c.seen
	c.seen = n
	if err := c.err.Load(); err != nil {
		return grew, *err
	}
	return grew, nil
}

func (c *kafkaCounter) records() int64 { return c.seen }

func (c *kafkaCounter) close() {
	c.cancel()
	<-c.done
	c.cl.Close()
}
