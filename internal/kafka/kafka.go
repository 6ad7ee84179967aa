// Package kafka delivers netlog's records to a Kafka topic: a
// transport.Sender over franz-go's producer (pkg/kgo), idempotent, with
// acks=all unless told otherwise. Each frame it is given is one record
// in netlog's JSON wire form behind its 4-byte length prefix; the JSON
// object, without the prefix, becomes the Kafka record's value, and the
// record's logger name, level name, and (for a record a netlog relay
// received) peer and listener become its headers and, if asked, its key.
//
// A frame counts as delivered only once Kafka has acknowledged the
// produce request that carried it (with acks=all: once every in-sync
// replica has it). WriteFrames returns the number of frames delivered, in
// order, before the first that was not. The producer keeps the order of
// the records of one partition, and its idempotence keeps a retried
// request from writing a record twice; a record whose produce outlasts
// the write timeout stays with the producer, and WriteFrames waits for it
// again instead of producing it anew (see WriteFrames).
package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/netlog-go/netlog/internal/transport"
)

// The acknowledgment levels Config.Acks takes.
const (
	AcksAll    = "all"    // every in-sync replica has the record; idempotent
	AcksLeader = "leader" // the partition's leader has it
	AcksNone   = "none"   // sent; the broker does not answer
)

// The record keys Config.Key takes.
const (
	KeyNone = "none" // no key: the producer spreads records over partitions
	KeyName = "name" // the logger name
	KeyPeer = "peer" // the address of the sender a relay received the record from
)

// compressions maps the names Config.Compression takes to the codecs.
var compressions = map[string]kgo.CompressionCodec{
	"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
	"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
}

// Config describes a Sender.
type Config struct {
	Brokers      []string      // host:port of the brokers to start from
	Topic        string        // where every record goes
	Acks         string        // AcksAll (""), AcksLeader or AcksNone
	Compression  string        // none (""), gzip, snappy, lz4 or zstd
	Linger       time.Duration // how long a partition's batch waits for more records; 0 sends at once
	BatchBytes   int           // largest record batch, before compression; 0: franz-go's 1,000,012
	Key          string        // KeyNone (""), KeyName or KeyPeer
	ClientID     string        // the client.id brokers log; "" means "netlog"
	DialTimeout  time.Duration // one connection attempt; 0 means 10 s
	WriteTimeout time.Duration // longest a write waits for acknowledgments before it reports; 0 means 5 s
	// Backoff paces the producer's retries and reconnects (normalized).
	Backoff transport.Backoff
	TLS     *tls.Config    // nil: plaintext
	SASL    sasl.Mechanism // nil: none; refused without TLS
}

// Sender is a transport.Sender over one Kafka producer. WriteFrames calls
// are serialized (the queue has one writer); Write may be called
// concurrently, and the producer then batches the records of concurrent
// callers.
type Sender struct {
	cl      *kgo.Client
	key     string
	timeout time.Duration

	mu    sync.Mutex
	pend  *batch      // produced by a WriteFrames that returned before every answer came
	held  atomic.Bool // pend != nil, for RetryAt without mu
	spare *batch      // the last batch, answered, for reuse

	connects, connectFailures atomic.Uint64
	lastDial                  atomic.Pointer[error] // the last failed connect, for the timeout's error
}

// Check validates c without connecting, naming the bad item.
func (c *Config) Check() error {
	if len(c.Brokers) == 0 {
		return errors.New("no broker address")
	}
	for _, b := range c.Brokers {
		if err := transport.CheckAddress("tcp", b, "tcp"); err != nil {
			return fmt.Errorf("broker: %w", err)
		}
	}
	if err := checkTopic(c.Topic); err != nil {
		return err
	}
	switch c.Acks {
	case "", AcksAll, AcksLeader, AcksNone:
	default:
		return fmt.Errorf("acks %q: want all, leader or none", c.Acks)
	}
	if _, ok := compressions[c.Compression]; !ok && c.Compression != "" {
		return fmt.Errorf("compression %q: want none, gzip, snappy, lz4 or zstd", c.Compression)
	}
	switch c.Key {
	case "", KeyNone, KeyName, KeyPeer:
	default:
		return fmt.Errorf("key %q: want name, peer or none", c.Key)
	}
	if c.BatchBytes != 0 && (c.BatchBytes < 512 || c.BatchBytes > 1<<30) {
		return fmt.Errorf("batch bytes %d: want 512 to 1 GiB", c.BatchBytes)
	}
	if c.SASL != nil && c.TLS == nil {
		return fmt.Errorf("SASL %s without TLS: the credentials would cross the network in clear", c.SASL.Name())
	}
	return nil
}

// checkTopic applies Kafka's rule for topic names.
func checkTopic(t string) error {
	switch {
	case t == "":
		return errors.New("empty topic")
	case t == "." || t == "..":
		return fmt.Errorf("topic %q: not a valid name", t)
	case len(t) > 249:
		return fmt.Errorf("topic of %d bytes: the most is 249", len(t))
	}
	if i := strings.IndexFunc(t, func(r rune) bool {
		return !(r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}); i >= 0 {
		return fmt.Errorf("topic %q: character %q (want letters, digits, '.', '_' and '-')", t, t[i])
	}
	return nil
}

// MaxFrame is the largest frame a Sender with c takes: a record over the
// batch limit is refused before it is queued.
func (c *Config) MaxFrame() int {
	if c.BatchBytes == 0 {
		return 1_000_012 + transport.PrefixLen
	}
	return c.BatchBytes + transport.PrefixLen
}

// New returns a Sender that has not connected yet.
func New(c Config) (*Sender, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	s := &Sender{key: c.Key, timeout: c.WriteTimeout}
	if s.timeout == 0 {
		s.timeout = 5 * time.Second
	}
	cl, err := kgo.NewClient(s.options(&c)...)
	if err != nil {
		return nil, err
	}
	s.cl = cl
	return s, nil
}

// options are the producer's settings for c.
func (s *Sender) options(c *Config) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...), kgo.DefaultProduceTopic(c.Topic),
		kgo.ProducerLinger(c.Linger), kgo.RetryBackoffFn(c.Backoff.Delay),
		kgo.ClientID(cmp(c.ClientID, "netlog")), kgo.WithHooks(hooks{s}),
		kgo.ProducerBatchCompression(compressions[cmp(c.Compression, "none")]),
		kgo.AllowAutoTopicCreation(), // as Kafka's own producer: the broker's auto.create.topics.enable decides
	}
	switch c.Acks {
	case AcksLeader:
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case AcksNone:
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	default:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	}
	if c.BatchBytes != 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(int32(c.BatchBytes)))
	}
	if c.DialTimeout != 0 {
		opts = append(opts, kgo.DialTimeout(c.DialTimeout))
	}
	if c.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.TLS))
	}
	if c.SASL != nil {
		opts = append(opts, kgo.SASL(c.SASL))
	}
	return opts
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// hooks counts the producer's connection attempts.
type hooks struct{ s *Sender }

// OnBrokerConnect is kgo's HookBrokerConnect.
func (h hooks) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		h.s.connectFailures.Add(1)
		h.s.lastDial.Store(&err)
		return
	}
	h.s.connects.Add(1)
	h.s.lastDial.Store(nil)
}

// Connects counts the connections the producer opened.
func (s *Sender) Connects() uint64 { return s.connects.Load() }

// ConnectFailures counts its failed connection attempts.
func (s *Sender) ConnectFailures() uint64 { return s.connectFailures.Load() }

// RetryAt is when the queue may write again after a failed write. The
// producer reconnects by itself; while it still holds records of a write
// that timed out, the next write should come at once to wait for them.
// Otherwise the zero time lets the queue pace its retries.
func (s *Sender) RetryAt() time.Time {
	if s.held.Load() {
		return time.Now().Add(time.Millisecond)
	}
	return time.Time{}
}

// Close closes the producer; records it still holds are failed.
func (s *Sender) Close() error {
	s.cl.Close()
	return nil
}

// Write produces one frame and waits for Kafka's acknowledgment, at most
// the write timeout or until ctx ends. An error after such a wait may
// leave the record with the producer, which may still deliver it.
func (s *Sender) Write(ctx context.Context, frame []byte) error {
	bt := batches.Get().(*batch)
	if err := bt.fill(s.key, frame, []int{len(frame)}, 0); err != nil {
		return err
	}
	bt.produce(ctx, s.cl)
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select { // bt stays with the producer unless answered
	case <-bt.done:
	case <-t.C:
		return fmt.Errorf("no acknowledgment from Kafka within %v; the producer may still deliver the record", s.timeout)
	case <-ctx.Done():
		return fmt.Errorf("waiting for Kafka's acknowledgment: %w; the producer may still deliver the record", ctx.Err())
	}
	_, err := bt.result()
	batches.Put(bt)
	return err
}

// batches are Write's, reused once answered.
var batches = sync.Pool{New: func() any { return newBatch() }}

// WriteFrames produces the frames of b (ending at ends) and returns how
// many Kafka acknowledged, in order, before the first it did not.
//
// If the acknowledgments do not all come within the write timeout (the
// brokers are down, say), or ctx ends, it returns those that came in
// order and an error, and keeps the records the producer still holds,
// which it may yet deliver: it never abandons them. The queue then writes
// the frames not counted again; WriteFrames waits for the held records
// first and counts those that match the frames given, byte for byte,
// without producing them twice; only the frames after them, or after the
// first the producer failed, are produced anew.
func (s *Sender) WriteFrames(ctx context.Context, b []byte, ends []int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := 0
	if s.pend != nil {
		n, err := s.settle(ctx, b, ends)
		if err != nil || n == len(ends) {
			return n, err
		}
		done = n
	}
	bt := s.spare
	if bt == nil {
		bt = newBatch()
	}
	s.spare = nil
	if err := bt.fill(s.key, b, ends, done); err != nil {
		return done, err
	}
	bt.produce(ctx, s.cl)
	n, err := s.await(ctx, bt)
	return done + n, err
}

// settle waits for the records held from an earlier WriteFrames and
// counts the first frames of b that they delivered, in order. Its error
// is that of the first held record that failed, or the wait's.
func (s *Sender) settle(ctx context.Context, b []byte, ends []int) (int, error) {
	bt := s.pend
	if _, err := s.await(ctx, bt); s.pend != nil {
		return 0, err
	}
	k, err := bt.result()
	n, from := 0, 0
	for n < min(k, len(ends)) && string(bt.value(n)) == string(payload(b[from:ends[n]])) {
		from = ends[n]
		n++
	}
	if n == k && n < len(ends) {
		return n, err // nil if all were delivered: the frames after them go now
	}
	return n, nil // the queue gave other frames than it had: they go now
}

// await waits for bt's answers, at most the write timeout, and returns
// its result. If they have not all come, bt is kept as s.pend; the error
// then names the last failed connect, if any.
func (s *Sender) await(ctx context.Context, bt *batch) (int, error) {
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	var why error
	select {
	case <-bt.done:
	case <-t.C:
		why = fmt.Errorf("no acknowledgment from Kafka within %v", s.timeout)
	case <-ctx.Done():
		why = fmt.Errorf("waiting for Kafka's acknowledgment: %w", ctx.Err())
	}
	if !bt.waiting() { // all answered, perhaps just as the wait ended
		s.pend, s.spare = nil, bt
		s.held.Store(false)
		return bt.result()
	}
	s.pend = bt
	s.held.Store(true)
	held := bt.left.Load()
	if last := s.lastDial.Load(); last != nil {
		return 0, fmt.Errorf("%w (records held by the producer: %d; last connect: %w)", why, held, *last)
	}
	return 0, fmt.Errorf("%w (records held by the producer: %d)", why, held)
}
