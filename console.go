package netlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"

	"github.com/netlog-go/netlog/internal/urlquery"
)

// consoleHandler is slog's text or JSON handler on stderr or stdout,
// behind the Handler interface: what stderr:// and stdout:// open.
type consoleHandler struct {
	slog.Handler
	c *consoleCore
}

type consoleCore struct {
	dest            string
	handled, failed atomic.Uint64
	errs            reporter
}

// openConsole opens stderr:// or stdout://; format=json chooses slog's
// JSON handler, level the minimum level. Of opts only Level, AddSource
// and ReplaceAttr apply.
func openConsole(u *url.URL, p *urlquery.Query, o Options) (Handler, error) {
	if u.Host != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return nil, fmt.Errorf("%s:// takes no host or path", u.Scheme)
	}
	if l := p.Level("level"); l != nil {
		o.Level = l
	}
	format := p.Str("format")
	if err := p.Done(u.Scheme); err != nil {
		return nil, err
	}
	var w io.Writer = os.Stderr
	if u.Scheme == "stdout" {
		w = os.Stdout
	}
	w = &lockedWriter{w: w}
	ho := &slog.HandlerOptions{Level: o.Level, AddSource: o.AddSource, ReplaceAttr: o.ReplaceAttr}
	c := &consoleCore{dest: u.Scheme}
	c.errs = reporter{dest: u.Scheme, onError: o.OnError}
	switch format {
	case "", "text":
		return &consoleHandler{slog.NewTextHandler(w, ho), c}, nil
	case "json":
		return &consoleHandler{slog.NewJSONHandler(w, ho), c}, nil
	}
	return nil, fmt.Errorf("parameter format=%q: want text or json", format)
}

// lockedWriter keeps a console's lines whole when other writers share it.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// Handle writes r, counting it.
func (h *consoleHandler) Handle(ctx context.Context, r slog.Record) error {
	h.c.handled.Add(1)
	if err := h.Handler.Handle(ctx, r); err != nil {
		h.c.failed.Add(1)
		e := newError(h.c.dest, CauseWrite, 1, err)
		h.c.errs.report(CauseWrite, 1, e)
		return e
	}
	return nil
}

// WithAttrs returns a handler whose records carry attrs.
func (h *consoleHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &consoleHandler{h.Handler.WithAttrs(attrs), h.c}
}

// WithGroup returns a handler that puts later attributes in a group.
func (h *consoleHandler) WithGroup(name string) slog.Handler {
	return &consoleHandler{h.Handler.WithGroup(name), h.c}
}

// Flush returns nil: every record is written when Handle returns.
func (h *consoleHandler) Flush(context.Context) error { return nil }

// Close waits for a call of OnError in flight; the console stays open.
func (h *consoleHandler) Close(ctx context.Context) error {
	ctx, cancel := closeContext(ctx)
	defer cancel()
	h.c.errs.wait(ctx)
	return nil
}

// Stats counts the records written and those that failed.
func (h *consoleHandler) Stats() Stats {
	st := Stats{Handled: h.c.handled.Load(), Failed: h.c.failed.Load()}
	st.Written = st.Handled - st.Failed
	st.LastError, st.LastErrorTime = h.c.errs.lastError()
	return st
}
