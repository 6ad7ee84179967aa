package netlog

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// socketHandler sends each record as one frame over a network
// connection: the socket and datagram handlers.
type socketHandler struct {
	c      *core
	pre    []byte   // attributes from WithAttrs, encoded
	groups []string // groups from WithGroup
	opened int      // how many of groups pre has opened
}

// core is what a handler and all handlers derived from it share.
type core struct {
	level     slog.Leveler
	addSource bool
	replace   record.Replacer
	name      string
	format    *record.Format
	base      record.Entry // the fields every record shares: identity, unknown source
	static    []byte       // base's identity, and its source when !addSource, encoded once
	dest      string       // "tcp 127.0.0.1:9020", for errors
	link      transport.Sender
	maxFrame  int                  // 0: no limit
	severity  func(slog.Level) int // 0 (most severe) to 7, for the overflow policy
	spool     *spool.Spool         // nil: synchronous
	refusals  map[error]error      // the spool's errors, wrapped once: dropping must not allocate
	errClosed error                // likewise
	closed    atomic.Bool
	errs      reporter
	seqID     string        // the instance id with Options.Sequence; "" without
	seq       atomic.Uint64 // the last sequence number given

	handled, written, failed, tooLarge, truncated, bytes atomic.Uint64
}

// started stands in for the start of Python's logging module, from which
// relativeCreated counts.
var started = time.Now()

var (
	pid         = os.Getpid()
	programName = filepath.Base(os.Args[0])
)

func newCore(o *Options, dest string, link transport.Sender, maxFrame int) (*core, error) {
	if o == nil {
		o = &Options{}
	}
	c := &core{
		level: o.Level, addSource: o.AddSource, replace: o.ReplaceAttr,
		name: o.Name, dest: dest, link: link, maxFrame: maxFrame,
		errs: reporter{dest: dest, onError: o.OnError},
	}
	if c.level == nil {
		c.level = slog.LevelInfo
	}
	if o.Sequence {
		c.seqID = newInstanceID()
	}
	if c.name == "" {
		c.name = programName
	}
	switch o.Codec {
	case "", CodecPickle:
		c.format = pickle.Format
	case CodecJSON:
		c.format = record.JSONFormat
	default:
		return nil, fmt.Errorf("unknown codec %q (want %q or %q)", o.Codec, CodecPickle, CodecJSON)
	}
	c.base = record.Entry{
		Name: c.name, Process: pid, ProcessName: programName,
		Pathname: unknownFile, Filename: unknownFile, Module: unknownFile, FuncName: unknownFunc,
	}
	c.static = c.format.AppendIdentity(nil, &c.base)
	if !c.addSource {
		c.static = c.format.AppendSource(c.static, &c.base)
	}
	c.severity = func(l slog.Level) int { return int(syslog.SeverityOf(l)) }
	c.errClosed = newError(dest, CauseDropped, 1, spool.ErrClosed)
	if d := dialerOf(link); d != nil {
		d.OnSwitch = c.switched
	}
	if o.Async != nil {
		cfg := o.Async.spool(o.Backoff)
		cfg.OnError = func(err error, frames int) { c.errs.report(causeOf(err), frames, err) }
		sp, err := spool.New(link, cfg)
		if err != nil {
			return nil, fmt.Errorf("async: %w", err)
		}
		c.spool = sp
		c.refusals = map[error]error{}
		for _, e := range []error{spool.ErrFull, spool.ErrTimeout, spool.ErrClosed} {
			c.refusals[e] = newError(dest, CauseDropped, 1, e)
		}
	}
	return c, nil
}

// dialerOf returns the Dialer under link, if it has one.
func dialerOf(link transport.Sender) *transport.Dialer {
	if l, ok := link.(interface{ Dialer() *transport.Dialer }); ok {
		return l.Dialer()
	}
	return nil
}

// switched reports a move to another destination through OnError.
func (c *core) switched(s transport.Switch) {
	err := fmt.Errorf("failover from %s to %s after %w", s.From, s.To, s.Err)
	if s.Back {
		err = fmt.Errorf("failback from %s to %s: it is reachable again", s.From, s.To)
	}
	c.errs.report(CauseFailover, 0, err)
}

// Enabled reports whether level is at or above the handler's Level.
func (h *socketHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.c.level.Level()
}

// state is the per-record scratch space, pooled so that Handle does not
// allocate in steady state.
type state struct {
	buf     []byte
	scratch []byte // the syslog handler's escaped copy of a message
	entry   record.Entry
	level   slog.Level
	extras  []slog.Attr
}

var statePool = sync.Pool{New: func() any { return &state{buf: make([]byte, 0, 1024)} }}

// maxPooled keeps a rare huge record from pinning its buffer in the pool.
const maxPooled = 64 << 10

func getState() *state { return statePool.Get().(*state) }

// putState returns s to the pool, unless a huge record grew its buffers.
func putState(s *state) {
	if cap(s.buf) <= maxPooled && cap(s.scratch) <= maxPooled {
		statePool.Put(s)
	}
}

// Handle encodes r into one frame and writes it, or, if the handler is
// asynchronous, queues it. An error means the record was not delivered
// (or, asynchronously, was dropped); it is also counted in Stats.
func (h *socketHandler) Handle(ctx context.Context, r slog.Record) error {
	s := getState()
	defer putState(s)
	s.buf = h.encode(s, r)
	return h.c.send(ctx, s.buf, s.level)
}

// send writes frame, or queues it when the handler is asynchronous.
func (c *core) send(ctx context.Context, frame []byte, level slog.Level) error {
	if err := c.oversize(frame); err != nil {
		return err
	}
	if c.spool != nil { // it counts the record
		if err := c.spool.Put(ctx, frame, c.severity(level)); err != nil {
			if e, ok := c.refusals[err]; ok {
				err = e
			} else { // the durable queue's, naming its file
				err = newError(c.dest, CauseDropped, 1, err)
			}
			c.errs.report(CauseDropped, 1, err)
			return err
		}
		return nil
	}
	c.handled.Add(1)
	if c.closed.Load() {
		c.failed.Add(1)
		return c.errClosed
	}
	if err := c.link.Write(ctx, frame); err != nil {
		c.failed.Add(1)
		e := newError(c.dest, causeOf(err), 1, err)
		c.errs.report(e.Cause, 1, e)
		return e
	}
	c.written.Add(1)
	c.bytes.Add(uint64(len(frame)))
	return nil
}

// oversize counts and returns ErrTooLarge for a frame over maxFrame.
func (c *core) oversize(frame []byte) error {
	if c.maxFrame == 0 || len(frame) <= c.maxFrame {
		return nil
	}
	c.handled.Add(1)
	c.failed.Add(1)
	c.tooLarge.Add(1)
	err := newError(c.dest, CauseDropped, 1, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(frame), c.maxFrame))
	c.errs.report(CauseDropped, 1, err)
	return err
}

// encode appends r as a whole frame to s.buf[:0].
func (h *socketHandler) encode(s *state, r slog.Record) []byte {
	enc := h.c.format.Enc
	e := &s.entry
	s.extras, s.level = h.c.fill(e, &r, s.extras[:0])
	b := transport.BeginFrame(s.buf[:0])
	b = append(enc.Begin(b), h.c.static...)
	b = h.c.appendSeqFields(b)
	if h.c.addSource {
		b = h.c.format.AppendSource(b, e)
	}
	b = h.c.format.AppendEvent(b, e)
	for _, a := range s.extras {
		b = record.AppendAttr(enc, b, a, true, nil, nil)
	}
	b = append(b, h.pre...)
	open := h.opened
	if r.NumAttrs() > 0 {
		mark := len(b)
		b = h.openGroups(b)
		start := len(b)
		top := len(h.groups) == 0
		r.Attrs(func(a slog.Attr) bool {
			b = record.AppendAttr(enc, b, a, top, h.groups, h.c.replace)
			return true
		})
		if len(b) == start {
			b = b[:mark]
		} else {
			open = len(h.groups)
		}
	}
	for range open {
		b = enc.Close(b)
	}
	b = enc.End(b)
	transport.EndFrame(b, 0)
	clear(s.extras)
	return b
}

// openGroups opens the groups that pre has not opened yet.
func (h *socketHandler) openGroups(b []byte) []byte {
	for i, g := range h.groups[h.opened:] {
		if h.opened+i == 0 {
			g = record.AttrKey(g)
		}
		b = h.c.format.Enc.Open(h.c.format.Enc.Key(b, g))
	}
	return b
}

// unknown source, as Python's findCaller reports it.
const (
	unknownFile = "(unknown file)"
	unknownFunc = "(unknown function)"
)

// fill sets e's standard fields from r, applying ReplaceAttr to the
// built-ins; replacements that fit no field are returned in extras, with
// the record's level after ReplaceAttr.
func (c *core) fill(e *record.Entry, r *slog.Record, extras []slog.Attr) ([]slog.Attr, slog.Level) {
	t, level, levelName, msg := r.Time, r.Level, "", r.Message
	var src *slog.Source
	if c.addSource && r.PC != 0 {
		src = r.Source()
	}
	if rep := c.replace; rep != nil {
		var a slog.Attr
		if !t.IsZero() {
			t = time.Time{}
			if a = rep(nil, slog.Time(slog.TimeKey, r.Time)); a.Value.Kind() == slog.KindTime {
				t = a.Value.Time()
			} else if a.Key != "" {
				extras = append(extras, a)
			}
		}
		a = rep(nil, slog.Any(slog.LevelKey, level))
		switch v := a.Value.Any(); {
		case a.Key == "":
		case a.Value.Kind() == slog.KindString:
			levelName = a.Value.String()
		default:
			if l, ok := v.(slog.Level); ok {
				level = l
			} else {
				extras = append(extras, a)
			}
		}
		a = rep(nil, slog.String(slog.MessageKey, msg))
		msg = ""
		if a.Key != "" {
			msg = a.Value.Resolve().String()
		}
		if src != nil {
			a = rep(nil, slog.Any(slog.SourceKey, src))
			src, _ = a.Value.Any().(*slog.Source)
			if src == nil && a.Key != "" {
				extras = append(extras, a)
			}
		}
	}
	*e = c.base
	e.Msg, e.Created, e.LevelNo = msg, t, record.LevelNo(level)
	if levelName == "" {
		levelName = record.LevelName(e.LevelNo)
	}
	e.LevelName = levelName
	if !t.IsZero() {
		e.Relative = t.Sub(started)
	}
	if src != nil {
		e.Pathname, e.Lineno = src.File, src.Line
		e.Filename = path.Base(src.File)
		e.Module = strings.TrimSuffix(e.Filename, path.Ext(e.Filename))
		e.FuncName = src.Function[strings.LastIndexByte(src.Function, '/')+1:]
	}
	return extras, level
}

// WithAttrs returns a handler whose records carry attrs, encoded once now.
func (h *socketHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	pre := slices.Clone(h.pre)
	mark := len(pre)
	pre = h.openGroups(pre)
	start := len(pre)
	for _, a := range attrs {
		pre = record.AppendAttr(h.c.format.Enc, pre, a, len(h.groups) == 0, h.groups, h.c.replace)
	}
	if len(pre) == start {
		pre = pre[:mark]
	} else {
		h2.opened = len(h.groups)
	}
	h2.pre = pre
	return &h2
}

// WithGroup returns a handler that puts later attributes in a nested dict.
func (h *socketHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(slices.Clip(h.groups), name)
	return &h2
}

// Stats returns the handler's counters.
func (h *socketHandler) Stats() Stats { return h.c.stats() }

func (c *core) stats() Stats {
	st := Stats{
		Handled: c.handled.Load(), Written: c.written.Load(), Failed: c.failed.Load(),
		TooLarge: c.tooLarge.Load(), Truncated: c.truncated.Load(), Bytes: c.bytes.Load(),
		Connects: c.link.Connects(), ConnectFailures: c.link.ConnectFailures(),
	}
	if r, ok := c.link.(interface{ Resent() uint64 }); ok {
		st.Resent = r.Resent()
	}
	if a, ok := c.link.(interface{ Acknowledged() uint64 }); ok {
		st.Acknowledged = a.Acknowledged()
	}
	if d := dialerOf(c.link); d != nil {
		st.Failovers, st.Failbacks = d.Failovers(), d.Failbacks()
	}
	if c.spool != nil {
		n := c.spool.Counts()
		st.Handled += n.Enqueued + n.Refused
		st.Failed += n.Refused
		st.Enqueued, st.Written, st.Bytes, st.Dropped = n.Enqueued, n.Written, n.Bytes, Drops(n.Dropped)
		st.Pending, st.PendingBytes, st.WriteErrors = n.Pending, n.PendingBytes, n.WriteErrors
		st.Recovered, st.Corrupt, st.Stored = n.Recovered, n.Corrupt, n.Stored
	}
	st.LastError, st.LastErrorTime = c.errs.lastError()
	return st
}

// Flush waits until every record handled before it has been written, or
// dropped by the overflow policy. A synchronous handler has nothing
// pending: its Flush returns nil at once.
func (h *socketHandler) Flush(ctx context.Context) error { return h.c.flush(ctx) }

func (c *core) flush(ctx context.Context) error {
	if c.spool == nil {
		return nil
	}
	if err := c.spool.Flush(ctx); err != nil {
		return newError(c.dest, CauseWrite, 0, err)
	}
	return nil
}

// Close delivers what is pending until ctx ends (DefaultCloseTimeout if
// it has no deadline), then closes the connection and stops the writer
// goroutine; no goroutine of the handler outlives it but a call of
// OnError that outlasts ctx. Its error says how many records were dropped
// undelivered (counted in Stats.Dropped.Closed). Handlers derived by
// WithAttrs and WithGroup share the connection: closing one closes them
// all.
func (h *socketHandler) Close(ctx context.Context) error { return h.c.close(ctx) }

func (c *core) close(ctx context.Context) error {
	ctx, cancel := closeContext(ctx)
	defer cancel()
	c.closed.Store(true)
	defer c.errs.wait(ctx)
	if c.spool == nil {
		if err := c.link.Close(); err != nil {
			return newError(c.dest, CauseWrite, 0, err)
		}
		return nil
	}
	before := c.spool.Counts().Dropped.Closed
	err := c.spool.Close(ctx)
	if lost := c.spool.Counts().Dropped.Closed - before; lost > 0 {
		e := newError(c.dest, CauseDropped, int(lost), fmt.Errorf("%w: %w", ErrClosed, err))
		c.errs.report(CauseDropped, int(lost), e)
		return e
	}
	if err != nil {
		return newError(c.dest, CauseWrite, 0, err)
	}
	return nil
}
