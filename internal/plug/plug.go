// Package plug is how netlog's scheme packages (netlog/smtp, netlog/kafka,
// netlog/otlp) reach the root package's handler machinery — the Options,
// the async queue, the counters and error reports — without the root
// package importing them, so that a program links only the destinations
// it names. Package netlog sets the functions in its init; a scheme
// package imports netlog (which runs that init) and calls them. Their
// values are typed any because this package cannot import netlog.
package plug

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/internal/urlquery"
	"github.com/netlog-go/netlog/record"
)

var (
	// Handler builds a netlog.Handler (returned as any) that encodes each
	// record as a JSON frame (record.JSONFormat) and delivers the frames
	// through s, honouring opts (a *netlog.Options): level, name, source,
	// Async queue, OnError, counters. dest names the destination in errors
	// ("kafka broker1:9092/logs"); maxFrame, if not 0, refuses larger
	// records with netlog.ErrTooLarge.
	Handler func(opts any, dest string, s transport.Sender, maxFrame int) (any, error)

	// Params reads the query parameters every network scheme takes
	// (level, name, dial-timeout, write-timeout, async, buffer,
	// buffer-bytes, overflow, block-timeout) from q into opts (a
	// *netlog.Options).
	Params func(q *urlquery.Query, opts any)

	// BasicParams reads the parameters every destination takes (level,
	// name, dial-timeout), SMTP's too, from q into opts (a
	// *netlog.Options); Params reads them as well.
	BasicParams func(q *urlquery.Query, opts any)

	// Report passes err, a failure of records records that the
	// destination refused after taking them (an OTLP partial success), to
	// the error reporting of h, a handler Handler made: OnError and
	// Stats.LastError. err should wrap transport.ErrRefused.
	Report func(h any, records int, err error)
)

// Core is what a handler with a delivery of its own (netlog/smtp's
// mailer) shares with the root package's handlers: the Options' level,
// name and ReplaceAttr, the record's standard fields, and the error
// reports behind Options.OnError and Stats.LastError.
type Core interface {
	// Enabled reports whether level is at or above Options.Level.
	Enabled(level slog.Level) bool
	// Name is the logger name: Options.Name, or the program's.
	Name() string
	// Replacer is Options.ReplaceAttr.
	Replacer() record.Replacer
	// Fill sets e's standard fields from r, applying ReplaceAttr to the
	// built-ins; replacements that fit no field are returned, with the
	// record's level after ReplaceAttr.
	Fill(e *record.Entry, r *slog.Record) (extras []slog.Attr, level slog.Level)
	// Error returns the *netlog.Error for records records that failed
	// with err, its cause (dial, TLS, write, refused, dropped) read from
	// err, matching the root's sentinels (ErrQueueFull for
	// spool.ErrFull, ErrClosed for spool.ErrClosed).
	Error(records int, err error) error
	// Report passes an error from Error to Options.OnError (rate-limited,
	// off the caller's goroutine) and keeps it for LastError.
	Report(err error)
	// LastError returns the latest reported error and when it happened.
	LastError() (error, time.Time)
	// CloseContext bounds ctx by netlog.DefaultCloseTimeout if it has no
	// deadline.
	CloseContext(ctx context.Context) (context.Context, context.CancelFunc)
	// Wait ends the reports: it waits for a call of OnError in flight
	// until ctx ends.
	Wait(ctx context.Context)
}

// NewCore makes the Core of a handler from opts (a *netlog.Options, not
// nil); dest names the destination in errors ("smtp mail.example.com").
var NewCore func(opts any, dest string) (Core, error)

// The hooks of TLS. The root package links no crypto/tls (it would add
// about 1.8 MB to every program that imports it): package tlsclient sets
// DialTLS and TLSParams in its init, internal/tlsconf (imported by every
// package that links crypto/tls) sets IsTLSError; each is nil until then.
// A config typed any is a *tls.Config.
var (
	// DialTLS returns how to connect to address over TLS with config
	// (nil: the defaults): verified, TLS 1.2 at least, the server name
	// from address unless config names one.
	DialTLS func(config any, address string) func(ctx context.Context) (net.Conn, error)
	// TLSParams reads a URL's TLS parameters (ca, insecure-skip-verify)
	// from q over config (nil: the defaults) and returns the config to
	// use: config itself if neither is given. A CA file that cannot be
	// read fails q's parameter.
	TLSParams func(q *urlquery.Query, config any) any
	// IsTLSError reports whether err is a TLS failure: certificate,
	// alert, a peer that does not speak TLS.
	IsTLSError func(err error) bool
)

// NewTLS wraps config (a *tls.Config) as a *netlog.TLS; TLSConfig
// returns the config of a *netlog.TLS, nil for nil. The root package
// sets them.
var (
	NewTLS    func(config any) any
	TLSConfig func(t any) any
)
