// Package netlog gives log/slog the network handlers of Python's
// logging.handlers: a stream socket handler (TCP and Unix stream sockets)
// and a datagram handler (UDP and Unix datagram sockets) whose frames
// Python's logging receivers read, and that netlog's receiver
// (package receive, command netlog serve) reads from Python and Go senders;
// a syslog handler (NewSyslogHandler) that speaks RFC 5424, RFC 3164 and
// Python's SysLogHandler form to the local daemon, or over UDP, TCP and
// verified TLS to rsyslog, syslog-ng or any collector. Package
// netlog/smtp adds an SMTP handler that emails alerts with the records
// that led to them. Open makes any of them, or a console handler, from a
// URL.
//
// A record travels as Python's SocketHandler sends it: a 4-byte big-endian
// length, then a pickle (or, with CodecJSON, a JSON object) of the
// LogRecord dict — name, msg, levelno, levelname, created, pathname, lineno,
// funcName, process, … — with the slog attributes as extra keys and groups
// as nested dicts. See package record for the field mapping.
//
// Handlers connect lazily and redial with exponential backoff. A record
// that cannot be delivered is never dropped silently: Handle returns an
// error (which errors.Is matches against ErrQueueFull, ErrClosed, …),
// Stats counts it, and Options.OnError is told why.
//
// Importing netlog has no side effect: nothing is registered on
// net/http's or expvar's defaults. To publish a handler's Stats, see the
// expvar example.
package netlog

import (
	"context"
	"log/slog"
	"time"

	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/internal/transport"
)

// Handler is what every netlog handler is, and what Open returns: a
// slog.Handler that also delivers what it holds (Flush), lets go of its
// connection (Close) and counts what it did (Stats). Handlers derived by
// WithAttrs and WithGroup share the connection and the counters. A Handler
// is safe for concurrent use.
type Handler interface {
	slog.Handler
	// Flush waits until every record handled before it was called has
	// been delivered or dropped, or until ctx ends; its error then says
	// how many are still pending (they stay queued).
	Flush(ctx context.Context) error
	// Close delivers what is pending until ctx ends, then closes the
	// connection and stops the handler's goroutines; later records are
	// refused with ErrClosed. A ctx without a deadline is bounded by
	// DefaultCloseTimeout. Its error says how many records were dropped.
	Close(ctx context.Context) error
	// Stats returns the handler's counters.
	Stats() Stats
}

// DefaultCloseTimeout bounds Close when its context has no deadline, so
// that `defer h.Close(context.Background())` cannot hang on a
// destination that is down.
const DefaultCloseTimeout = 5 * time.Second

// Codec names the payload format of a frame.
type Codec string

// The payload formats. Both carry the same LogRecord dict.
const (
	CodecPickle Codec = "pickle" // Python's SocketHandler payload; the default
	CodecJSON   Codec = "json"   // one JSON object
)

// Backoff is the reconnect policy shared by every handler: after the n-th
// failed connect in a row the next attempt waits Initial·Factor^(n-1), at
// most Max — Python's SocketHandler schedule — shortened by a random
// fraction of up to Jitter so that many senders do not redial a restarted
// collector in step. The zero value means 1 s, doubling, capped at 30 s,
// with 20% jitter; a zero field of a non-zero Backoff takes that default.
type Backoff struct {
	Initial time.Duration // first wait; default 1 s
	Factor  float64       // growth per failure; default 2
	Max     time.Duration // cap; default 30 s
	Jitter  float64       // 0 ≤ Jitter < 1
}

func (b Backoff) internal() transport.Backoff { return transport.Backoff(b) }

// DefaultMaxDatagram is the largest UDP payload over IPv4: 65535 less the
// IP and UDP headers.
const DefaultMaxDatagram = 65507

// Options configure a handler. The first three fields mean what they mean
// in slog.HandlerOptions. The zero Options are valid. A field that does
// not apply to a handler (as noted on each) is refused by its constructor
// where it suggests a mistake (TLS settings for a plain network, Async for
// SMTP), and ignored when it comes with the defaults given to Open, so
// that one Options value can serve whatever URL a program is given.
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
	// Name is the logger name (Python's record.name; the syslog APP-NAME);
	// default: the base name of the program.
	Name string
	// Codec is the payload format of the socket and datagram handlers;
	// "" means CodecPickle.
	Codec Codec
	// DialTimeout bounds a connect attempt (the SMTP handler's whole
	// SMTP exchange); default 1 s (5 s for SMTP).
	DialTimeout time.Duration
	// WriteTimeout bounds a write; default 5 s. A context deadline given to
	// Handle applies too. Not for SMTP.
	WriteTimeout time.Duration
	// Backoff is the reconnect policy (SMTP: the retry schedule).
	Backoff Backoff
	// Fallbacks are addresses, on the handler's network, that take over
	// in order when the current destination fails FailoverAfter times in
	// a row (connects or writes); the handler returns to its own address
	// once a probe, paced by Backoff, finds it reachable again. Records
	// the failed destination had not acknowledged go to the next one.
	// See "Failover" in docs/handlers.md. Socket and syslog handlers only.
	Fallbacks []string
	// FailoverAfter is how many failures in a row move delivery to the
	// next destination; 0 means 3. With Fallbacks only.
	FailoverAfter int
	// MaxDatagram is the largest datagram the datagram handler sends,
	// length prefix included; 0 means DefaultMaxDatagram. For syslog, see
	// SyslogOptions. Datagram handlers only.
	MaxDatagram int
	// TLS configures the client side of TLS: the "tls" and "relp+tls"
	// networks of the socket and syslog handlers, and the SMTP handler
	// (package netlog/smtp). Make it with tlsclient.New from a
	// *tls.Config and a CA file. The server's certificate is verified
	// unless the config says InsecureSkipVerify; the minimum version is
	// TLS 1.2 whatever it says. nil means the defaults: the system's
	// roots. TLS destinations only; the TLS networks need package
	// netlog/tlsclient imported (see TLS).
	TLS *TLS
	// Async, if not nil, makes delivery asynchronous: Handle encodes the
	// record on the caller's goroutine, queues the bytes and returns
	// without waiting for the network; one writer goroutine per handler
	// sends what is queued, in order, many records per write on a stream.
	// While the destination is down, records wait in the queue and go out
	// after the reconnect. Not for SMTP, which always sends in the
	// background.
	Async *Async
	// Sequence numbers the records of the socket, datagram and syslog
	// handlers (RFC 5424 only), so that a receiver can find and drop the
	// duplicates that at-least-once delivery makes (netlog serve --dedup):
	// each record carries the handler's instance id, 16 hex digits drawn
	// at random when the handler is made, and its number, from 1, shared
	// with the handlers derived by WithAttrs and WithGroup. In RFC 5424
	// they are the element [netlog@32473 seq="…" id="…"], in pickles and
	// JSON the fields netlog_seq and netlog_id. They cost about 40 bytes
	// and a few nanoseconds per record (docs/delivery.md).
	Sequence bool
	// OnError, if not nil, is told why records fail: each error is an
	// *Error with the cause (dial, TLS, write, refused, dropped, failover) and the
	// number of records affected. It is called on a goroutine of its own,
	// never on the caller's, one call at a time and at most once per
	// ErrorInterval; errors in between are counted in the next call's
	// Suppressed. Stats.LastError holds the latest error whether or not
	// OnError is set. Waiting to redial after a failed connect is not
	// reported again: the failure was.
	OnError func(error)
}

// Async configures asynchronous delivery. The zero value is valid.
type Async struct {
	// MaxRecords and MaxBytes bound the records pending, queued or being
	// written; defaults 262,144 records and 64 MiB.
	MaxRecords, MaxBytes int
	// Overflow is the policy when a record does not fit; default
	// DropLowest.
	Overflow Overflow
	// BlockTimeout is the longest Handle waits for room under Block;
	// default 1 s.
	BlockTimeout time.Duration
	// MaxBatch bounds the bytes of one write; default 256 KiB.
	MaxBatch int
	// Retries is how many times a record the destination refused (a RELP
	// error code) is sent again before it is given up and counted in
	// Stats.Dropped.Refused, so that one poison message cannot hold back
	// the records after it; default 3, negative for none.
	Retries int

	// Dir, if set, makes the queue durable: records are kept in segment
	// files in Dir (made if missing) until they are delivered, and a
	// handler started on the same Dir sends what an earlier process left
	// there first, in order. Handle returns once its record is in the
	// file (in the kernel's page cache), so a process killed at any point
	// loses nothing Handle accepted; Fsync bounds what a power loss or
	// kernel crash may lose. With Dir, MaxBytes bounds the bytes on disk
	// (default 1 GiB) and MaxRecords defaults to 4,194,304. One process
	// at a time may use a Dir; a second gets an error. See
	// docs/durable-queue.md.
	Dir string
	// Fsync is how often a durable queue's new records are flushed to
	// stable storage: 0 after every batch the queue takes in, a positive
	// duration at most that often, FsyncNever never (the kernel writes
	// them back in its own time, typically within 30 s).
	Fsync time.Duration
	// MemoryFirst, with Dir, keeps records in memory while the queue holds
	// less than this many bytes and writes only the rest to Dir (rsyslog's
	// disk-assisted mode): the speed of the memory queue while the
	// destination keeps up, but the records in memory are lost if the
	// process is killed (Close writes them to Dir). 0 writes every record
	// to Dir.
	MemoryFirst int
}

// FsyncNever, as Async.Fsync, leaves a durable queue's files to the
// kernel's write-back.
const FsyncNever time.Duration = -1

// spool returns the queue's configuration; failed writes on a live
// connection are paced by backoff.
func (a Async) spool(backoff Backoff) spool.Config {
	return spool.Config{MaxRecords: a.MaxRecords, MaxBytes: a.MaxBytes, Overflow: spool.Overflow(a.Overflow),
		BlockTimeout: a.BlockTimeout, MaxBatch: a.MaxBatch, Retries: a.Retries, Backoff: backoff.internal(),
		Dir: a.Dir, Fsync: a.Fsync, MemoryFirst: a.MemoryFirst}
}

// Overflow is what an asynchronous handler does with a record that does
// not fit in its queue.
type Overflow int

// The overflow policies; each dropped record is counted by reason in
// Stats.Dropped.
const (
	DropLowest Overflow = Overflow(spool.DropLowest) // drop the oldest queued record of the lowest severity, if no more severe than the new one; else the new one
	DropNewest Overflow = Overflow(spool.DropNewest) // drop the new record
	DropOldest Overflow = Overflow(spool.DropOldest) // drop the oldest queued records
	Block      Overflow = Overflow(spool.Block)      // wait for room up to Async.BlockTimeout, then drop the new record
)

// String returns the policy's name as URLs write it: drop-lowest,
// drop-newest, drop-oldest or block.
func (o Overflow) String() string { return spool.Overflow(o).String() }

// Drops counts records a handler dropped, by reason.
type Drops struct {
	Newest  uint64 // the queue was full (DropNewest, or DropLowest with nothing less severe queued; SMTP: its queue was full)
	Oldest  uint64 // dropped to make room under DropOldest
	Lowest  uint64 // dropped to make room under DropLowest
	Timeout uint64 // the queue stayed full for BlockTimeout under Block
	Closed  uint64 // still pending when Close's deadline passed
	Refused uint64 // refused by the destination Async.Retries+1 times
	Disk    uint64 // could not be written to Async.Dir (disk full, not writable)
}

// Total is the sum of the counts.
func (d Drops) Total() uint64 {
	return d.Newest + d.Oldest + d.Lowest + d.Timeout + d.Closed + d.Refused + d.Disk
}

// Stats are a handler's counters since it was made; handlers derived by
// WithAttrs and WithGroup share them. They always add up:
//
//	Handled  = Enqueued + Written (sync) + Failed
//	Enqueued + Recovered = Written (async) + Dropped.Total() + Pending + Stored
//
// so that a synchronous handler has Handled = Written + Failed, and an
// asynchronous one accounts for every record it queued. The SMTP handler
// queues every record: for it Handled = Enqueued = Mailed + Failed +
// Discarded + Dropped.Total() + Pending, and Written = Mailed.
type Stats struct {
	Handled      uint64 // records given to Handle at an enabled level
	Enqueued     uint64 // async: records offered to the queue
	Written      uint64 // records written to the connection
	Failed       uint64 // records Handle returned an error for and did not queue (SMTP: records of emails that failed for good)
	TooLarge     uint64 // of Failed, records over the datagram limit
	Dropped      Drops  // async: of Enqueued, records given up, by reason
	Pending      uint64 // async: records queued or being written now
	PendingBytes uint64 // their bytes
	Truncated    uint64 // of Written, syslog datagrams cut to the limit
	Bytes        uint64 // bytes written, framing included
	WriteErrors  uint64 // async: writes that failed (their records stay queued)
	Recovered    uint64 // durable: records an earlier process left in Async.Dir, queued first
	Corrupt      uint64 // durable: damaged records found in Async.Dir and skipped (not in Recovered)
	Stored       uint64 // durable: records left in Async.Dir at Close for the next start
	// Resent counts records written again on a new connection because the
	// peer had not acknowledged them when the old one was given up (TCP on
	// Linux; RELP: written to a session that failed before acknowledging
	// them, which an async handler sends again); the receiver may have got
	// some of them twice.
	Resent uint64
	// Acknowledged counts, over RELP, the messages the server acknowledged,
	// as each acknowledgment comes in; Written counts them once the whole
	// batch they went out in is acknowledged. It shows a slow server
	// still taking a large batch.
	Acknowledged uint64
	Connects     uint64 // connections opened; all but the first are reconnects
	// ConnectFailures counts connect attempts that failed.
	ConnectFailures uint64
	// Failovers counts the moves to the next destination of
	// Options.Fallbacks after FailoverAfter failures in a row; Failbacks
	// the returns to the primary once it was reachable again.
	Failovers, Failbacks uint64

	// The SMTP handler's own counters.
	Emails    uint64 // emails sent
	Mailed    uint64 // records in sent emails
	Retries   uint64 // sends that failed and will be tried again
	Discarded uint64 // context records with no trigger after them: aged out, or left at Close

	// LastError is the latest failure (an *Error), and LastErrorTime when
	// it happened; nil if none.
	LastError     error
	LastErrorTime time.Time
}
