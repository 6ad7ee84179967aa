package receive

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/netlog-go/netlog/record"
)

// SlogSink returns a Sink that hands each record to h as a slog.Record,
// so that received records can go to any slog.Handler. The record keeps
// its time, level and message; its attributes follow, groups intact,
// after "logger" (the sender's logger name) and before what the sender
// knew besides: "source" (file:line), "exc_text", "stack_info", a
// "syslog" group (hostname, appname, procid, msgid, facility, severity)
// and "peer", the sender's address. Fields that are not known are left
// out.
func SlogSink(h slog.Handler) Sink {
	return SinkFunc(func(e *record.Entry) error {
		ctx := context.Background()
		if !h.Enabled(ctx, e.Level()) {
			return nil
		}
		return h.Handle(ctx, SlogRecord(e))
	})
}

// SlogRecord converts e to a slog.Record as SlogSink does.
func SlogRecord(e *record.Entry) slog.Record {
	r := slog.NewRecord(e.Created, e.Level(), e.Msg, 0)
	if e.Name != "" {
		r.AddAttrs(slog.String("logger", e.Name))
	}
	r.AddAttrs(e.Attrs...)
	if e.Lineno > 0 {
		r.AddAttrs(slog.String("source", e.Pathname+":"+strconv.Itoa(e.Lineno)))
	}
	for _, f := range [...]struct{ k, v string }{{"exc_text", e.ExcText}, {"stack_info", e.StackInfo}} {
		if f.v != "" {
			r.AddAttrs(slog.String(f.k, f.v))
		}
	}
	if s := e.Syslog; s != nil {
		var g []any
		for _, f := range [...]struct{ k, v string }{
			{"hostname", s.Hostname}, {"appname", s.AppName}, {"procid", s.ProcID}, {"msgid", s.MsgID},
		} {
			if f.v != "" {
				g = append(g, slog.String(f.k, f.v))
			}
		}
		g = append(g, slog.Int("facility", s.Facility), slog.Int("severity", s.Severity))
		r.AddAttrs(slog.Group("syslog", g...))
	}
	if e.Peer != "" {
		r.AddAttrs(slog.String("peer", e.Peer))
	}
	return r
}
