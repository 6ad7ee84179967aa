package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/forward"
	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// CommitterOutput is an output that writes through a receive.Committer
// (a receive.Printer on stdout, stderr or a file): a record is delivered
// once the Committer's Commit of it returned — written, and fsynced if
// the Printer syncs. Its errors stay (a Printer's do). close, if not nil,
// is called at Close after the last batch is flushed.
func CommitterOutput(name string, c receive.Committer, level slog.Leveler, flush func() error, close func() error) Output {
	return &committerOutput{name: name, c: c, level: level, flush: flush, close: close}
}

type committerOutput struct {
	name         string
	c            receive.Committer
	level        slog.Leveler
	flush, close func() error
	added        atomic.Uint64
	failed       atomic.Uint64 // refused by the Committer (its error stays)
}

func (o *committerOutput) Name() string                  { return o.name }
func (o *committerOutput) Enabled(level slog.Level) bool { return level >= o.level.Level() }

func (o *committerOutput) Add(_ context.Context, e *record.Entry, _ spool.Room) (uint64, error) {
	t, err := o.c.Add(e)
	if err != nil {
		o.failed.Add(1)
		return 0, err
	}
	o.added.Add(1)
	return uint64(t), nil
}

// Commit does not give up at Relay.Stop: a Committer's write completes
// or fails on its own, and a record read before the drain ended must be
// written before the sender's connection is closed.
func (o *committerOutput) Commit(ctx context.Context, _, to uint64) error {
	return o.c.Commit(context.WithoutCancel(ctx), receive.Ticket(to))
}

// Stats counts as delivered the records added: a Committer writes every
// record it takes, or fails for good; as dropped ("failed"), those it
// refused.
func (o *committerOutput) Stats() Stats {
	return Stats{Delivered: o.added.Load(), Dropped: map[string]uint64{"failed": o.failed.Load()}}
}

func (o *committerOutput) Close(context.Context) error {
	var err error
	if o.flush != nil {
		err = o.flush()
	}
	if o.close != nil {
		err = errors.Join(err, o.close())
	}
	return err
}

// handlerOutput is an output through one of netlog's asynchronous
// handlers: a record is delivered once the handler's queue has written it
// (for RELP: once the server acknowledged it).
type handlerOutput struct {
	name string
	h    netlog.Handler
	f    forward.Handler

	mu       sync.Mutex
	written  uint64    // Stats.Written at the latest Healthy that saw it grow
	progress time.Time // when that was, or when the output was opened
}

func (o *handlerOutput) Name() string { return o.name }

func (o *handlerOutput) Enabled(level slog.Level) bool {
	return o.h.Enabled(context.Background(), level)
}

func (o *handlerOutput) Add(ctx context.Context, e *record.Entry, room spool.Room) (uint64, error) {
	return o.f.EnqueueEntry(ctx, e, room)
}

func (o *handlerOutput) Commit(ctx context.Context, from, to uint64) error {
	return o.f.Delivered(ctx, from, to)
}

func (o *handlerOutput) Stats() Stats {
	st := o.h.Stats()
	d := st.Dropped
	return Stats{Delivered: st.Written, Queued: st.Pending, Dropped: map[string]uint64{
		"full": d.Newest, "oldest": d.Oldest, "lowest": d.Lowest, "timeout": d.Timeout,
		"closed": d.Closed, "refused": d.Refused, "disk": d.Disk, "too_large": st.TooLarge,
	}, Failovers: st.Failovers, Failbacks: st.Failbacks, Recovered: st.Recovered, Corrupt: st.Corrupt, Stored: st.Stored}
}

func (o *handlerOutput) Close(ctx context.Context) error { return o.h.Close(ctx) }

// Healthy reports the output unreachable while it holds records and has
// failed since it was last seen delivering (by an earlier Healthy), with
// the latest error; /healthz calls it.
func (o *handlerOutput) Healthy() error {
	st := o.h.Stats()
	o.mu.Lock()
	defer o.mu.Unlock()
	if st.Written != o.written {
		o.written, o.progress = st.Written, time.Now()
	}
	if st.Pending > 0 && st.LastError != nil && st.LastErrorTime.After(o.progress) {
		return fmt.Errorf("%d records waiting: %w", st.Pending, st.LastError)
	}
	return nil
}
