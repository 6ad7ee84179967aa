// Package relay is netlog serve's Sink over several outputs: it hands
// every received record to each output whose level it reaches, and
// commits a record (so that the Server acknowledges it) only once every
// output it went to has confirmed it. docs/relay.md says what confirmed
// means for each output.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// Output is one destination of a Relay. Positions are an output's own
// numbering of the records it took, growing with each.
type Output interface {
	// Name is the output's URL, its password masked.
	Name() string
	// Enabled reports whether records of level go to the output.
	Enabled(level slog.Level) bool
	// Add takes e (encoding it at once: e is reused after Add returns),
	// waiting for room as room says, and returns its position.
	Add(ctx context.Context, e *record.Entry, room spool.Room) (uint64, error)
	// Commit returns once the records up to position to are delivered:
	// nil if none of those from from on was dropped.
	Commit(ctx context.Context, from, to uint64) error
	// Stats returns the output's counters.
	Stats() Stats
	// Close delivers what is pending until ctx ends, then stops.
	Close(ctx context.Context) error
}

// Stats are an output's counters.
type Stats struct {
	Delivered uint64            // records the destination confirmed
	Queued    uint64            // records taken and not yet delivered or dropped
	Dropped   map[string]uint64 // records given up, by reason
	// Failovers and Failbacks count the moves of an output with fallbacks
	// to its next destination, and back to its first.
	Failovers, Failbacks uint64
	// An output with a durable queue (spool=DIR): Recovered counts the
	// records an earlier netlog serve left in DIR, taken at start (in
	// Queued until delivered); Corrupt the damaged frames found there and
	// skipped; Stored, after Close, the records left in DIR for the next
	// start (not dropped).
	Recovered, Corrupt, Stored uint64
}

// ringSize is how many recent tickets a Relay remembers the positions
// of; an older ticket is committed conservatively (it waits for more).
const ringSize = 1 << 14

// Relay is a receive.Committer (and Offerer and RangeCommitter) over
// outputs. It is safe for concurrent use.
type Relay struct {
	outs []Output
	// last[k] is 1 + the highest position output k has given, 0 if none.
	last   []atomic.Uint64
	ticket atomic.Uint64
	ctx    context.Context // ends at Close: no Add waits beyond it
	cancel context.CancelFunc

	// What the Relay remembers of the last ringSize tickets: the ticket in
	// slot i is tickets[i], and for each output k, lo[i*n+k] to
	// hi[i*n+k] (exclusive) are the positions of its record if it went
	// there, or an empty range at the output's end if not.
	mu      sync.Mutex
	tickets []receive.Ticket
	lo, hi  []uint64
}

var _ interface {
	receive.Committer
	receive.Offerer
	receive.RangeCommitter
} = (*Relay)(nil)

// New returns a Relay over outs, which it closes at Close.
func New(outs []Output) *Relay {
	n := len(outs)
	r := &Relay{outs: outs, last: make([]atomic.Uint64, n),
		tickets: make([]receive.Ticket, ringSize), lo: make([]uint64, ringSize*n), hi: make([]uint64, ringSize*n)}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// Outputs returns the Relay's outputs.
func (r *Relay) Outputs() []Output { return r.outs }

// Transient: every output encodes a record when it takes it, so the
// Server decodes into reused Entries, as it does for a Printer.
func (*Relay) Transient() {}

var _ receive.Transient = (*Relay)(nil)

// Add hands e to every output whose level it reaches, waiting for room in
// each (back-pressure on the input), and returns its ticket. An error
// means an output did not take it: it must not be acknowledged.
func (r *Relay) Add(e *record.Entry) (receive.Ticket, error) {
	return r.add(e, spool.BlockCtx)
}

// Offer hands e to every output whose level it reaches without waiting:
// an output whose queue is full drops it and counts the drop.
func (r *Relay) Offer(e *record.Entry) error {
	_, err := r.add(e, spool.NoWait)
	if errors.Is(err, spool.ErrClosed) {
		return err
	}
	return nil // counted by the output that dropped it
}

// Write adds e and commits it.
func (r *Relay) Write(e *record.Entry) error {
	t, err := r.Add(e)
	if err != nil {
		return err
	}
	return r.Commit(context.Background(), t)
}

func (r *Relay) add(e *record.Entry, room spool.Room) (receive.Ticket, error) {
	t := receive.Ticket(r.ticket.Add(1))
	var lb, hb [8]uint64 // no allocation for up to 8 outputs
	lo, hi := lb[:0], hb[:0]
	var first error
	level := e.Level()
	for k, o := range r.outs {
		end := r.last[k].Load()
		if !o.Enabled(level) {
			lo, hi = append(lo, end), append(hi, end)
			continue
		}
		pos, err := o.Add(r.ctx, e, room)
		if err != nil {
			if first == nil {
				first = fmt.Errorf("output %s: %w", o.Name(), err)
			}
			lo, hi = append(lo, end), append(hi, end)
			continue
		}
		raise(&r.last[k], pos+1)
		lo, hi = append(lo, pos), append(hi, pos+1)
	}
	i, n := int(t%ringSize), len(r.outs)
	r.mu.Lock()
	r.tickets[i] = t
	copy(r.lo[i*n:], lo)
	copy(r.hi[i*n:], hi)
	r.mu.Unlock()
	return t, first
}

// raise sets a to v if v is higher.
func raise(a *atomic.Uint64, v uint64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// Commit returns once every record added up to ticket t has been
// confirmed by its outputs.
func (r *Relay) Commit(ctx context.Context, t receive.Ticket) error {
	return r.CommitRange(ctx, 0, t)
}

// CommitRange returns once the records added with tickets first to last
// (and any added before them) are confirmed by every output they went to;
// its error names the first output that dropped one of them or failed.
// It also gives up when the Relay is stopped.
func (r *Relay) CommitRange(ctx context.Context, first, last receive.Ticket) error {
	if ctx.Done() == nil { // never canceled (the Server's): the Relay's own ends at Stop
		ctx = r.ctx
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer context.AfterFunc(r.ctx, cancel)()
		defer cancel()
	}
	var fb, tb [8]uint64
	from, to := fb[:0], tb[:0]
	for range r.outs {
		from, to = append(from, 0), append(to, 0)
	}
	n := len(r.outs)
	r.mu.Lock()
	if i := int(first % ringSize); first != 0 && r.tickets[i] == first {
		copy(from, r.lo[i*n:(i+1)*n])
	} // else from 0: an old ticket is checked over everything before it
	if i := int(last % ringSize); r.tickets[i] == last {
		copy(to, r.hi[i*n:(i+1)*n])
	} else {
		for k := range to {
			to[k] = r.last[k].Load() // past it, at least
		}
	}
	r.mu.Unlock()
	for k, o := range r.outs {
		if to[k] == 0 || from[k] >= to[k] {
			continue // nothing of this range went to o
		}
		if err := o.Commit(ctx, from[k], to[k]-1); err != nil {
			return fmt.Errorf("output %s: %w", o.Name(), err)
		}
	}
	return nil
}

// Stop ends every wait for an output that may be down: for room in its
// queue (Add returns an error) and for delivery (Commit returns an
// error), so that a connection waiting for an output that is down ends,
// as netlog serve's drain must. A CommitterOutput's commit (a write) is
// not cut short. The outputs go on delivering what they hold until Close.
func (r *Relay) Stop() { r.cancel() }

// Close stops the waits, then closes every output, each delivering what
// it holds until ctx ends.
func (r *Relay) Close(ctx context.Context) error {
	r.cancel()
	var errs []error
	for _, o := range r.outs {
		if err := o.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", o.Name(), err))
		}
	}
	return errors.Join(errs...)
}
