package receive

import (
	"context"

	"github.com/netlog-go/netlog/record"
)

// A Ticket is a record's place in a Committer's output.
type Ticket uint64

// A Committer is a Sink that writes records in batches. The Server
// acknowledges a record (a RELP "rsp", or the close that ends a netlog
// handler's drain) only after Commit of its ticket returned nil; between
// acknowledgments it only Adds, so that one write carries many records.
type Committer interface {
	Sink
	// Add takes e into the batch being gathered and returns its ticket.
	// Like Write, it is called from many goroutines.
	Add(e *record.Entry) (Ticket, error)
	// Commit returns once the batch holding t is written — at once if
	// it is, by writing it now if nothing else is — or with the error
	// that kept it from being written.
	Commit(ctx context.Context, t Ticket) error
}

// A Transient Sink keeps nothing of a record once Write, Add or Offer
// has returned, not even a string (it encodes the record at once), so
// that the Server may decode the next record of a connection into the
// same Entry instead of allocating one per record, and a syslog
// message's strings may be slices of the bytes read, which the Server
// reuses for the records after it. Printer is one.
type Transient interface {
	Sink
	// Transient marks the Sink; it does nothing.
	Transient()
}

// An Offerer is a Committer that also takes records from inputs that
// cannot acknowledge them (datagrams): the Server gives those to Offer,
// and does not commit them, so that an output that is down makes the
// Offerer drop (and count) them instead of stopping the datagram reader.
type Offerer interface {
	// Offer takes e without waiting for an output; its error means e
	// was taken by none.
	Offer(e *record.Entry) error
}

// A RangeCommitter is a Committer whose Commit can tell the records of
// one connection from those of others: CommitRange is Commit for the
// records added with tickets first to last (and any between), so that a
// record of another connection that an output dropped does not fail
// this connection's commit.
type RangeCommitter interface {
	CommitRange(ctx context.Context, first, last Ticket) error
}

// commitPoint is what one connection (or datagram listener) has added to
// the Sink and not yet seen committed.
type commitPoint struct {
	first, last Ticket
	pending     bool
	offer       bool // a datagram listener's: Offer to an Offerer
}

// add hands e to the Sink: Add for a Committer, else Write.
func (s *Server) add(cp *commitPoint, e *record.Entry) error {
	c, ok := s.Sink.(Committer)
	if !ok {
		return s.Sink.Write(e)
	}
	if o, ok := s.Sink.(Offerer); ok && cp.offer {
		return o.Offer(e)
	}
	t, err := c.Add(e)
	if err == nil {
		cp.include(t)
		for last := s.lastTicket.Load(); uint64(t) > last && !s.lastTicket.CompareAndSwap(last, uint64(t)); {
			last = s.lastTicket.Load()
		}
	}
	return err
}

// include makes t one of the tickets cp commits.
func (cp *commitPoint) include(t Ticket) {
	if !cp.pending {
		cp.first = t
	}
	cp.last, cp.pending = max(cp.last, t), true
}

// holdFor makes cp's next commit wait for every record added so far: a
// dropped duplicate is acknowledged only once its first copy, which may
// still wait in an output's queue, is written.
func (s *Server) holdFor(cp *commitPoint) {
	if _, ok := s.Sink.(Committer); !ok || cp.offer {
		return
	}
	if t := Ticket(s.lastTicket.Load()); t != 0 {
		cp.include(t)
	}
}

// commit returns once every record added through cp is written.
func (s *Server) commit(ctx context.Context, cp *commitPoint) error {
	if !cp.pending {
		return nil
	}
	cp.pending = false
	if rc, ok := s.Sink.(RangeCommitter); ok {
		return rc.CommitRange(ctx, cp.first, cp.last)
	}
	return s.Sink.(Committer).Commit(ctx, cp.last)
}
