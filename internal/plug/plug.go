// Package plug is how netlog's scheme packages (netlog/smtp, netlog/kafka,
// netlog/otlp) reach the root package's handler machinery — the Options,
// the async queue, the counters and error reports — without the root
// package importing them, so that a program links only the destinations
// it names. Package netlog sets the functions in its init; a scheme
// package imports netlog (which runs that init) and calls them. Their
// values are typed any because this package cannot import netlog.
package plug

import (
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/internal/urlquery"
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

	// Report passes err, a failure of records records that the
	// destination refused after taking them (an OTLP partial success), to
	// the error reporting of h, a handler Handler made: OnError and
	// Stats.LastError. err should wrap transport.ErrRefused.
	Report func(h any, records int, err error)
)
