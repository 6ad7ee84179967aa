// Package forward is how netlog serve's relay hands a received record to
// one of the library's handlers without going through slog.Record, which
// has no room for a received record's source, times, process and thread,
// or syslog fields. The root package's handlers satisfy Handler; the
// relay finds it by a type assertion, so that it stays out of the public
// API.
package forward

import (
	"context"

	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/record"
)

// SDID is the SD-ID of the structured data element in which a record
// forwarded as RFC 5424 carries where it was received: its params "peer"
// (Entry.Peer) and "listener" (Entry.Listener). A pickle or JSON record
// carries them as the fields "peer" and "listener". The first relay's
// are kept: a relay does not add them again to a record that has them.
const SDID = "netlog@32473"

// A handler with Options.Sequence numbers its records: RFC 5424 carries
// the number and the handler's instance id as the params SeqParam and
// IDParam of the element SDID; pickles and JSON as the fields SeqField and
// IDField. A relay passes them on as they came.
const (
	SeqParam = "seq"
	IDParam  = "id"
	SeqField = "netlog_seq"
	IDField  = "netlog_id"
)

// Handler is a handler that encodes a received Entry as it is, with its
// own wire format, and sends it. The Entry's own attributes are written;
// those a handler got from WithAttrs and WithGroup are not (a relay's
// handlers have none).
type Handler interface {
	// HandleEntry sends e as Handle sends a record: synchronously, or
	// queued if the handler is asynchronous. Its level is not checked.
	HandleEntry(ctx context.Context, e *record.Entry) error
	// EnqueueEntry queues e in an asynchronous handler's queue, waiting
	// for room as room says, and returns its sequence number for
	// Delivered. A synchronous handler returns an error.
	EnqueueEntry(ctx context.Context, e *record.Entry, room spool.Room) (uint64, error)
	// Delivered waits until the records up to sequence number to are
	// delivered or dropped; it returns nil if none from from to to was
	// dropped (spool.Wait).
	Delivered(ctx context.Context, from, to uint64) error
}
