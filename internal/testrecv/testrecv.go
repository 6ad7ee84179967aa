// Package testrecv runs a receive.Server in a test and hands over what it
// receives, record by record, and how it refused bad frames.
package testrecv

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// Receiver is a running receive.Server on one listener.
type Receiver struct {
	Server  *receive.Server
	Network string // "tcp", "udp", "unix" or "unixgram"
	Addr    string // where to send
	Entries chan *record.Entry
	Reports chan receive.Report
}

// Start listens on a loopback port or a temporary socket path for netlog
// frames and serves until the test ends.
func Start(t testing.TB, network string) *Receiver {
	t.Helper()
	return start(t, network, "", false)
}

// StartAt is Start on a given address: a collector coming (back) up.
func StartAt(t testing.TB, network, addr string) *Receiver {
	t.Helper()
	return start(t, network, addr, false)
}

// StartSyslog is Start for syslog messages.
func StartSyslog(t testing.TB, network string) *Receiver {
	t.Helper()
	return start(t, network, "", true)
}

func start(t testing.TB, network, addr string, syslog bool) *Receiver {
	t.Helper()
	r := &Receiver{Network: network, Entries: make(chan *record.Entry, 1024), Reports: make(chan receive.Report, 1024)}
	r.Server = &receive.Server{
		Sink:     receive.SinkFunc(func(e *record.Entry) error { r.Entries <- e; return nil }),
		OnRefuse: func(rep receive.Report) { r.Reports <- rep },
		Drain:    100 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	switch {
	case addr != "":
	case strings.HasPrefix(network, "unix"):
		addr = filepath.Join(t.TempDir(), network+".sock")
	default:
		addr = "127.0.0.1:0"
	}
	if network == "tcp" || network == "unix" {
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		r.Addr = ln.Addr().String()
		serve := r.Server.ServeStream
		if syslog {
			serve = r.Server.ServeSyslogStream
		}
		go func() { done <- serve(ctx, ln) }()
	} else {
		pc, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		r.Addr = pc.LocalAddr().String()
		serve := r.Server.ServePacket
		if syslog {
			serve = r.Server.ServeSyslogPacket
		}
		go func() { done <- serve(ctx, pc); pc.Close() }()
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("receiver on %s: %v", network, err)
		}
	})
	return r
}

// Next returns the next record, failing the test after 10 s.
func (r *Receiver) Next(t testing.TB) *record.Entry {
	t.Helper()
	return within(t, r, r.Entries, "no record arrived")
}

// NextReport returns the next refusal, failing the test after 10 s.
func (r *Receiver) NextReport(t testing.TB) receive.Report {
	t.Helper()
	return within(t, r, r.Reports, "no refusal was reported")
}

// within waits for the next value on c; on failure it says what the
// server counted meanwhile: whether what was sent was read at all (Frames,
// KernelDrops) tells a datagram the kernel dropped from one read but held.
func within[T any](t testing.TB, r *Receiver, c <-chan T, failure string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s on %s %s within 10 s; server stats %+v", failure, r.Network, r.Addr, r.Server.Stats())
		var zero T
		return zero
	}
}

// Map turns an Entry into what testing/slogtest expects: the built-in keys
// time (when known), level and msg, and the attributes, groups as maps.
func Map(e *record.Entry) map[string]any {
	m := map[string]any{slog.LevelKey: e.LevelName, slog.MessageKey: e.Msg}
	if !e.Created.IsZero() {
		m[slog.TimeKey] = e.Created
	}
	for _, a := range e.Attrs {
		m[a.Key] = value(a.Value)
	}
	return m
}

func value(v slog.Value) any {
	if v.Kind() != slog.KindGroup {
		return v.Any()
	}
	m := map[string]any{}
	for _, a := range v.Group() {
		m[a.Key] = value(a.Value)
	}
	return m
}

// SyslogMap is Map for a syslog message: the parameters of its structured
// data, their dotted names (g.h.k) nested back into groups.
func SyslogMap(e *record.Entry) map[string]any {
	m := Map(e)
	for _, el := range e.Syslog.SD {
		for _, p := range el.Params {
			SetDotted(m, p.Name, p.Value)
		}
	}
	return m
}

// SetDotted sets m[a][b][c] = v for the name "a.b.c", making the maps
// between as needed: flat dotted names back into slog's groups.
func SetDotted(m map[string]any, name string, v any) {
	path := strings.Split(name, ".")
	for _, g := range path[:len(path)-1] {
		sub, ok := m[g].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[g] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}
