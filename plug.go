package netlog

import (
	"context"
	"log/slog"
	"time"

	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/internal/urlquery"
	"github.com/netlog-go/netlog/record"
)

// The hooks of package plug: the only place where its values typed any
// become the root package's types.
func init() {
	plug.Handler = func(opts any, dest string, s transport.Sender, maxFrame int) (any, error) {
		o := Options{}
		if p := opts.(*Options); p != nil {
			o = *p
		}
		o.Codec = CodecJSON
		c, err := newCore(&o, dest, s, maxFrame)
		if err != nil {
			return nil, err
		}
		return &socketHandler{c: c}, nil
	}
	plug.Params = func(q *urlquery.Query, opts any) { commonParams(q, opts.(*Options)) }
	plug.BasicParams = func(q *urlquery.Query, opts any) { basicParams(q, opts.(*Options)) }
	plug.Report = func(h any, records int, err error) { h.(*socketHandler).c.errs.report(CauseRefused, records, err) }
	plug.NewTLS = func(config any) any { return &TLS{config: config} }
	plug.TLSConfig = func(t any) any { return t.(*TLS).cfg() }
	plug.NewCore = func(opts any, dest string) (plug.Core, error) {
		c, err := newCore(opts.(*Options), dest, nil, 0)
		if err != nil {
			return nil, err
		}
		return pluggedCore{c}, nil
	}
}

// pluggedCore is a core seen through plug.Core.
type pluggedCore struct{ c *core }

func (p pluggedCore) Enabled(l slog.Level) bool { return l >= p.c.level.Level() }
func (p pluggedCore) Name() string              { return p.c.name }
func (p pluggedCore) Replacer() record.Replacer { return p.c.replace }
func (p pluggedCore) Fill(e *record.Entry, r *slog.Record) ([]slog.Attr, slog.Level) {
	return p.c.fill(e, r, nil)
}
func (p pluggedCore) Error(records int, err error) error {
	return newError(p.c.dest, causeOf(err), records, err)
}
func (p pluggedCore) Report(err error) {
	e := err.(*Error)
	p.c.errs.report(e.Cause, e.Records, e)
}
func (p pluggedCore) LastError() (error, time.Time) { return p.c.errs.lastError() }
func (p pluggedCore) CloseContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return closeContext(ctx)
}
func (p pluggedCore) Wait(ctx context.Context) { p.c.errs.wait(ctx) }
