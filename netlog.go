// Package netlog gives log/slog the network handlers of Python's
// logging.handlers: a stream socket handler (TCP and Unix stream sockets)
// and a datagram handler (UDP and Unix datagram sockets) whose frames
// Python's logging receivers read, and that netlog's receiver
// (package receive, command netlog serve) reads from Python and Go senders;
// a syslog handler (NewSyslogHandler) that speaks RFC 5424, RFC 3164 and
// Python's SysLogHandler form to the local daemon, or over UDP, TCP and
// verified TLS to rsyslog, syslog-ng or any collector; and an SMTP handler
// (NewSMTPHandler) that emails alerts with the records that led to them,
// over verified TLS, without mail storms and without blocking the caller.
//
// A record travels as Python's SocketHandler sends it: a 4-byte big-endian
// length, then a pickle (or, with CodecJSON, a JSON object) of the
// LogRecord dict — name, msg, levelno, levelname, created, pathname, lineno,
// funcName, process, … — with the slog attributes as extra keys and groups
// as nested dicts. See package record for the field mapping.
//
// Handlers connect lazily and redial with exponential backoff. A record
// that cannot be delivered is never dropped silently: Handle returns an
// error and Stats counts it.
package netlog

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/internal/transport"
)

// Codec names the payload format of a frame.
type Codec string

// The payload formats. Both carry the same LogRecord dict.
const (
	CodecPickle Codec = "pickle" // Python's SocketHandler payload; the default
	CodecJSON   Codec = "json"   // one JSON object
)

// Backoff is the reconnect policy shared by every handler: the zero value
// means 1 s, doubling, capped at 30 s, with 20% jitter.
type Backoff = transport.Backoff

// DefaultMaxDatagram is the largest UDP payload over IPv4: 65535 less the
// IP and UDP headers.
const DefaultMaxDatagram = 65507

// ErrTooLarge reports a record whose frame is over the datagram limit; it
// is refused whole, never truncated.
var ErrTooLarge = errors.New("record too large for one datagram")

// ErrClosed reports a record handled after Close.
var ErrClosed = spool.ErrClosed

// ErrBackingOff reports a record refused while the handler waits to
// redial a destination that failed.
var ErrBackingOff = transport.ErrBackingOff

// Options configure a handler. The first three fields mean what they mean
// in slog.HandlerOptions. The zero Options are valid.
type Options struct {
	// Level is the minimum level logged; nil means slog.LevelInfo.
	Level slog.Leveler
	// AddSource fills pathname, filename, module, lineno and funcName from
	// the caller. Without it they read "(unknown file)", 0 and
	// "(unknown function)", as Python writes when it cannot find the caller.
	AddSource bool
	// ReplaceAttr rewrites attributes as in slog.HandlerOptions. For the
	// built-ins: a returned attribute with an empty key removes the field;
	// a time value replaces created, a slog.Level value the level, a string
	// the levelname, a *slog.Source the source fields; msg takes any value's
	// text. Any other replacement is sent as an attribute.
	ReplaceAttr func(groups []string, a slog.Attr) slog.Attr
	// Name is the logger name (Python's record.name); default: the base
	// name of the program.
	Name string
	// Codec is the payload format; "" means CodecPickle.
	Codec Codec
	// DialTimeout bounds a connect attempt; default 1 s.
	DialTimeout time.Duration
	// WriteTimeout bounds a write; default 5 s. A context deadline given to
	// Handle applies too.
	WriteTimeout time.Duration
	// Backoff is the reconnect policy.
	Backoff Backoff
	// MaxDatagram is the largest datagram the datagram handler sends,
	// length prefix included; 0 means DefaultMaxDatagram.
	MaxDatagram int
	// TLS configures the client side of TLS: the "tls" network of the
	// socket and syslog handlers, and the SMTP handler. The server's
	// certificate is verified unless TLS.InsecureSkipVerify is set; the
	// minimum version is TLS 1.2 whatever TLS.MinVersion says; set
	// TLS.Certificates to authenticate to a server that asks. nil means
	// the system's roots.
	TLS *tls.Config
	// CAFile names a PEM bundle of the CAs that may sign the server's
	// certificate, in place of TLS.RootCAs.
	CAFile string
	// Async, if not nil, makes delivery asynchronous: Handle encodes the
	// record on the caller's goroutine, queues the bytes and returns
	// without waiting for the network; one writer goroutine per handler
	// sends what is queued, in order, many records per write on a stream.
	// While the destination is down, records wait in the queue and go out
	// after the reconnect. See Async for the bounds and overflow policies.
	Async *Async
	// Expvar, if not empty, publishes the handler's Stats in package
	// expvar under this name (at /debug/vars when expvar's handler is
	// served). A name already published is an error.
	Expvar string
}

// Async configures asynchronous delivery: the queue's bounds (by records
// and by bytes, default 262,144 records and 64 MiB), the Overflow policy
// when it is full (default DropLowest), how long Block waits, and the
// largest write. The zero value is valid.
type Async = spool.Config

// Overflow is what an asynchronous handler does with a record that does
// not fit in its queue.
type Overflow = spool.Overflow

// The overflow policies; each dropped record is counted by reason in
// Stats.Dropped.
const (
	DropLowest = spool.DropLowest // drop the oldest queued record of the lowest severity, if no more severe than the new one; else the new one
	DropNewest = spool.DropNewest // drop the new record
	DropOldest = spool.DropOldest // drop the oldest queued records
	Block      = spool.Block      // wait for room up to Async.BlockTimeout, then drop the new record
)

// Drops counts records an asynchronous handler dropped, by reason.
type Drops = spool.Drops

// Stats are a handler's counters since it was made; handlers derived by
// WithAttrs and WithGroup share them. They always add up:
//
//	Handled  = Enqueued + Written (sync) + Failed
//	Enqueued = Written (async) + Dropped.Total() + Pending
//
// so that a synchronous handler has Handled = Written + Failed, and an
// asynchronous one accounts for every record it queued.
type Stats struct {
	Handled      uint64 // records given to Handle at an enabled level
	Enqueued     uint64 // async: records offered to the queue
	Written      uint64 // records written to the connection
	Failed       uint64 // records Handle returned an error for and did not queue
	TooLarge     uint64 // of Failed, records over the datagram limit
	Dropped      Drops  // async: of Enqueued, records given up, by reason
	Pending      uint64 // async: records queued or being written now
	PendingBytes uint64 // their bytes
	Truncated    uint64 // of Written, syslog datagrams cut to the limit
	Bytes        uint64 // bytes written, framing included
	WriteErrors  uint64 // async: writes that failed (their records stay queued)
	// Resent counts records written again on a new connection because the
	// peer had not acknowledged them when the old one was given up (TCP on
	// Linux); the receiver may have got some of them twice.
	Resent uint64
	// Acknowledged counts, over RELP, the messages the server acknowledged,
	// as each acknowledgment comes in; Written counts them once the whole
	// batch they went out in is acknowledged. It shows a slow server
	// still taking a large batch.
	Acknowledged uint64
	Connects     uint64 // connections opened; all but the first are reconnects
	// ConnectFailures counts connect attempts that failed.
	ConnectFailures uint64
}
