// Package kafka is netlog's Kafka destination: a netlog.Handler that
// produces each record, in netlog's JSON wire form, to a Kafka topic,
// through franz-go's idempotent producer with acks=all by default.
//
// Importing it registers the kafka scheme with netlog.Open:
//
//	import _ "github.com/netlog-go/netlog/kafka"
//
//	h, err := netlog.Open("kafka://broker1:9092,broker2:9092/logs?key=name", nil)
//
// The record's value is the JSON object netlog's handlers send (the
// LogRecord fields and the attributes, see package record); its headers
// are name (the logger name) and level (the level name), and, for a
// record that netlog serve received and relays, peer and listener (the
// sender's address and the address it came in on); its timestamp is the
// record's time. The key is empty, the logger name or the peer (Key).
//
// Delivery is asynchronous by default, as a Kafka producer is: Handle
// queues the record and returns; a record counts as written (Stats,
// Flush) only once Kafka has acknowledged it — with acks=all, once every
// in-sync replica of its partition has it. While the brokers are down,
// records wait in the queue, bounded as netlog.Async says, and go out
// when a broker answers again. Records of one partition arrive in the
// order they were handled, without duplicates from retries (the
// producer is idempotent); a topic's partitions are not ordered with
// each other, so for one order of all records use a topic of one
// partition, or a key (the records of one key share a partition).
// docs/kafka.md says more, with what was verified and how.
package kafka

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/netlog-go/netlog"
	ikafka "github.com/netlog-go/netlog/internal/kafka"
	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/tlsconf"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/internal/urlquery"
)

// The acknowledgments Options.Acks takes.
const (
	AcksAll    = "all"    // every in-sync replica has the record; the producer is idempotent
	AcksLeader = "leader" // the partition's leader has it; not idempotent
	AcksNone   = "none"   // sent, unanswered: a record lost on the way is not known
)

// The keys Options.Key takes.
const (
	KeyNone = "none" // no key
	KeyName = "name" // the logger name
	KeyPeer = "peer" // the sender's address, for a record netlog serve relays; no key for others
)

// Options configure a Kafka handler. The zero value is valid.
type Options struct {
	// Options are netlog's: Level, Name, AddSource, ReplaceAttr, Async
	// (nil means netlog's default queue, unless Sync), OnError, Backoff
	// (the producer's retries and reconnects), DialTimeout (default 10 s),
	// WriteTimeout (how long a write waits for acknowledgments before it
	// is reported as failed and waited for again; default 5 s), and TLS
	// (made by package tlsclient's New) with UseTLS. Codec and MaxDatagram
	// do not apply: the record is JSON.
	netlog.Options
	// Sync makes Handle wait for Kafka's acknowledgment of its record,
	// instead of queueing it. Concurrent callers' records share produce
	// requests.
	Sync bool
	// Acks is AcksAll (""), AcksLeader or AcksNone.
	Acks string
	// Compression of the record batches: "none" (""), "gzip", "snappy",
	// "lz4" or "zstd".
	Compression string
	// Linger is how long the producer waits for more records before it
	// sends a partition's batch; 0 (the default) sends at once. The queue
	// hands over all it holds at once, so Linger matters for Sync.
	Linger time.Duration
	// BatchBytes bounds a record batch before compression; default
	// 1,000,012 bytes (Kafka's max.message.bytes). A record larger than
	// it is refused with netlog.ErrTooLarge.
	BatchBytes int
	// Key is KeyNone (""), KeyName or KeyPeer.
	Key string
	// ClientID is the client.id the brokers log; default "netlog".
	ClientID string
	// UseTLS connects with TLS 1.2 or later, the brokers' certificates
	// verified as Options.TLS says (tlsclient.New: a CA file, a
	// *tls.Config's roots and client certificates), by default against
	// the system's roots, each against the broker's host name.
	UseTLS bool
	// SASL authenticates to the brokers; only with UseTLS, so that no
	// password crosses the network in clear.
	SASL SASL
}

// SASL names a SASL mechanism and its credentials.
type SASL struct {
	// Mechanism is "" (none), "plain", "scram-sha-256" or "scram-sha-512".
	Mechanism      string
	User, Password string
}

func init() { netlog.RegisterScheme("kafka", open) }

// New returns a handler that produces records to topic through the
// brokers named (host:port each; the producer finds the others). It
// checks its arguments, and connects only when the first record comes.
func New(brokers []string, topic string, opts *Options) (netlog.Handler, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if !o.UseTLS && o.TLS != nil {
		return nil, fmt.Errorf("netlog: kafka %s: TLS settings without UseTLS", dest(brokers, topic))
	}
	h, err := build(brokers, topic, o)
	if err != nil {
		return nil, fmt.Errorf("netlog: kafka %s: %w", dest(brokers, topic), err)
	}
	return h, nil
}

func dest(brokers []string, topic string) string {
	return strings.Join(brokers, ",") + "/" + topic
}

// build makes the handler; its errors do not name the destination.
func build(brokers []string, topic string, o Options) (netlog.Handler, error) {
	cfg, err := config(brokers, topic, &o)
	if err != nil {
		return nil, err
	}
	s, err := ikafka.New(cfg)
	if err != nil {
		return nil, err
	}
	o.Codec, o.MaxDatagram = "", 0
	if o.Sync {
		o.Async = nil
	} else if o.Async == nil {
		o.Async = &netlog.Async{}
	}
	h, err := plug.Handler(&o.Options, "kafka "+dest(brokers, topic), s, cfg.MaxFrame())
	if err != nil {
		s.Close()
		return nil, err
	}
	return h.(netlog.Handler), nil
}

// config is the producer's configuration from o.
func config(brokers []string, topic string, o *Options) (ikafka.Config, error) {
	backoff, err := transport.Backoff(o.Backoff).Normalize()
	if err != nil {
		return ikafka.Config{}, err
	}
	cfg := ikafka.Config{Brokers: brokers, Topic: topic, Acks: o.Acks, Compression: o.Compression,
		Linger: o.Linger, BatchBytes: o.BatchBytes, Key: o.Key, ClientID: o.ClientID,
		DialTimeout: o.DialTimeout, WriteTimeout: o.WriteTimeout, Backoff: backoff}
	if o.UseTLS { // no address: the producer names each broker it dials
		cfg.TLS = tlsconf.Client(tlsconf.Config(plug.TLSConfig(o.TLS)), "")
	}
	cfg.SASL, err = mechanism(o.SASL)
	return cfg, err
}

// mechanism is the SASL mechanism s names; nil for none.
func mechanism(s SASL) (sasl.Mechanism, error) {
	switch s.Mechanism {
	case "":
		if s.User != "" || s.Password != "" {
			return nil, errors.New("SASL credentials without a mechanism")
		}
		return nil, nil
	case "plain":
		return plain.Auth{User: s.User, Pass: s.Password}.AsMechanism(), nil
	case "scram-sha-256":
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism(), nil
	case "scram-sha-512":
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("SASL mechanism %q: want plain, scram-sha-256 or scram-sha-512", s.Mechanism)
}

// open is netlog.Open's Opener for kafka://broker[,broker…]/topic.
func open(u *url.URL, defaults *netlog.Options) (netlog.Handler, error) {
	h, err := openURL(u, defaults)
	if err != nil {
		return nil, fmt.Errorf("netlog: URL %q: %w", u.Redacted(), err)
	}
	return h, nil
}

func openURL(u *url.URL, defaults *netlog.Options) (netlog.Handler, error) {
	if u.Host == "" || u.Opaque != "" {
		return nil, errors.New("missing brokers (kafka://host:port[,host:port…]/topic)")
	}
	topic, _ := strings.CutPrefix(u.Path, "/")
	if topic == "" {
		return nil, errors.New("missing topic (kafka://host:port/topic)")
	}
	v := u.Query()
	if !v.Has("async") {
		v.Set("async", "true") // a producer is asynchronous by nature
	}
	q := urlquery.New(v)
	o := Options{Options: *defaults}
	o.TLS = nil // the defaults' TLS is for other schemes, unless tls=true
	plug.Params(q, &o.Options)
	o.Sync = o.Async == nil
	o.Acks, o.Compression, o.Key, o.ClientID = q.Str("acks"), q.Str("compression"), q.Str("key"), q.Str("client-id")
	o.Linger, o.BatchBytes = q.Duration("linger"), q.Size("batch-bytes")
	tlsParams(q, &o, defaults)
	if err := saslParams(q, u, &o); err != nil {
		return nil, err
	}
	if err := q.Done(u.Scheme); err != nil {
		return nil, err
	}
	return build(strings.Split(u.Host, ","), topic, o)
}

// tlsParams reads tls, ca and insecure-skip-verify; with tls=true the
// defaults' TLS settings apply under the URL's.
func tlsParams(q *urlquery.Query, o *Options, defaults *netlog.Options) {
	o.UseTLS = q.Bool("tls")
	if !o.UseTLS {
		for _, k := range []string{"ca", "insecure-skip-verify"} {
			if q.Has(k) {
				q.Fail(k, q.Get(k), errors.New("applies only with tls=true"))
			}
		}
		return
	}
	o.TLS = defaults.TLS
	if c := tlsconf.Params(q, tlsconf.Config(plug.TLSConfig(defaults.TLS))); c != nil {
		o.TLS = plug.NewTLS(c).(*netlog.TLS)
	}
}

// saslParams reads sasl and password-env, with the URL's user and
// password.
func saslParams(q *urlquery.Query, u *url.URL, o *Options) error {
	o.SASL.Mechanism = q.Str("sasl")
	env := q.Str("password-env")
	if u.User != nil {
		o.SASL.User = u.User.Username()
		o.SASL.Password, _ = u.User.Password()
	}
	if env != "" {
		pw, ok := os.LookupEnv(env)
		if !ok {
			return fmt.Errorf("password-env: environment variable %s is not set", env)
		}
		o.SASL.Password = pw
	}
	return nil
}
