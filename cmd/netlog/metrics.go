package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netlog-go/netlog/internal/relay"
	"github.com/netlog-go/netlog/receive"
)

// A family is one metric of the text format: its name, type and help.
type family struct{ name, kind, help string }

var (
	famFrames   = family{"netlog_receive_frames_total", "counter", "Frames read, good or bad."}
	famRecords  = family{"netlog_receive_records_total", "counter", "Records handed to the output."}
	famUnparsed = family{"netlog_receive_unparsed_total", "counter", "Syslog messages that did not parse, printed raw."}
	famRefused  = family{"netlog_receive_refused_total", "counter", "Frames and connections refused, by reason."}
	famIdle     = family{"netlog_receive_idle_closed_total", "counter", "Connections closed after the idle timeout."}
	famAccepted = family{"netlog_receive_connections_total", "counter", "Stream connections accepted, by listener."}
	famActive   = family{"netlog_receive_connections_active", "gauge", "Stream connections being served, by listener."}
	famAcceptEr = family{"netlog_receive_accept_errors_total", "counter", "Failed accepts (out of descriptors, …), retried, by listener."}
	famSilent   = family{"netlog_receive_silent_closed_total", "counter", "Connections closed after the handshake timeout without a byte sent."}
	famMemUsed  = family{"netlog_receive_memory_used_bytes", "gauge", "Bytes of the memory budget charged to connections' buffers."}
	famMemWaits = family{"netlog_receive_memory_waits_total", "counter", "Times a connection's reading waited for the memory budget."}
	famJoined   = family{"netlog_receive_syslog_joined_lines_total", "counter", "Lines of LF-framed syslog joined to the message before them (multi-line messages)."}
	famJoinCuts = family{"netlog_receive_syslog_join_cuts_total", "counter", "Joined syslog messages cut at --max-frame, the rest printed as further records."}
	famKDrops   = family{"netlog_receive_kernel_drops_total", "counter", "Datagrams the kernel dropped with a socket's receive buffer full (Linux)."}
	famDups     = family{"netlog_receive_duplicates_total", "counter", "Records --dedup dropped as sent again by their sender."}
	famDedupEv  = family{"netlog_receive_dedup_evicted_total", "counter", "Sender instances --dedup stopped following to follow new ones."}
	famDedupOld = family{"netlog_receive_dedup_stale_total", "counter", "Numbered records older than their sender's --dedup window, passed on unchecked."}
	famOutDeliv = family{"netlog_output_delivered_total", "counter", "Records an output delivered (for RELP: acknowledged by the server), by output URL."}
	famOutDrop  = family{"netlog_output_dropped_total", "counter", "Records an output gave up, by output URL and reason."}
	famOutQueue = family{"netlog_output_queued", "gauge", "Records an output holds, not yet delivered or dropped, by output URL."}
	famOutMoves = family{"netlog_output_switches_total", "counter", "Moves of an output with fallbacks to its next destination (failover) or back to its first (failback), by output URL."}
	famOutRecov = family{"netlog_output_recovered_total", "counter", "Records an output with spool=DIR found there at start, left by an earlier netlog serve, by output URL."}
	famOutBad   = family{"netlog_output_corrupt_total", "counter", "Damaged frames an output with spool=DIR found there and skipped, by output URL."}
)

// A sample is one line of a family: its labels (name, value, name,
// value, …, in the order of their names, as client_golang wrote them)
// and its value.
type sample struct {
	labels []string
	value  int64
}

// writeMetrics writes st and the outputs' counters in Prometheus' text
// exposition format (version 0.0.4), each family once, its samples
// sorted by their labels. It is written here rather than with
// client_golang, whose registry, process collector and protobuf
// encoding took 0.8 MiB more resident memory in every netlog serve,
// scraped or not (docs/receiver-limits.md).
func writeMetrics(w io.Writer, st receive.Stats, outs []relay.Output) error {
	fams := map[family][]sample{}
	add := func(f family, v int64, labels ...string) { fams[f] = append(fams[f], sample{labels, v}) }
	for f, v := range map[family]uint64{famFrames: st.Frames, famRecords: st.Records, famUnparsed: st.Unparsed,
		famIdle: st.IdleClosed, famSilent: st.SilentClosed, famMemWaits: st.MemoryWaits, famJoined: st.JoinedLines,
		famJoinCuts: st.JoinCuts, famKDrops: st.KernelDrops, famDups: st.Duplicates, famDedupEv: st.DedupEvicted,
		famDedupOld: st.DedupStale} {
		add(f, int64(v))
	}
	add(famMemUsed, st.MemoryUsed)
	for reason, n := range st.Refused {
		add(famRefused, int64(n), "reason", string(reason))
	}
	for name, l := range st.Listeners {
		add(famAccepted, int64(l.Accepted), "listener", name)
		add(famAcceptEr, int64(l.AcceptErrors), "listener", name)
		add(famActive, l.Active, "listener", name)
	}
	for _, o := range outs {
		st, name := o.Stats(), o.Name()
		add(famOutDeliv, int64(st.Delivered), "output", name)
		for reason, n := range st.Dropped {
			add(famOutDrop, int64(n), "output", name, "reason", reason)
		}
		add(famOutQueue, int64(st.Queued), "output", name)
		add(famOutMoves, int64(st.Failovers), "kind", "failover", "output", name)
		add(famOutMoves, int64(st.Failbacks), "kind", "failback", "output", name)
		add(famOutRecov, int64(st.Recovered), "output", name)
		add(famOutBad, int64(st.Corrupt), "output", name)
	}
	b := appendFamilies(nil, fams)
	_, err := w.Write(b)
	return err
}

// appendFamilies appends fams in the text format, sorted by name.
func appendFamilies(b []byte, fams map[family][]sample) []byte {
	names := slices.SortedFunc(maps.Keys(fams), func(a, b family) int { return strings.Compare(a.name, b.name) })
	for _, f := range names {
		b = fmt.Appendf(b, "# HELP %s %s\n# TYPE %s %s\n", f.name, helpEscaper.Replace(f.help), f.name, f.kind)
		samples := fams[f]
		slices.SortFunc(samples, func(x, y sample) int { return slices.Compare(x.labels, y.labels) })
		for _, s := range samples {
			b = append(b, f.name...)
			for i := 0; i < len(s.labels); i += 2 {
				sep := byte(',')
				if i == 0 {
					sep = '{'
				}
				b = fmt.Appendf(b, "%c%s=\"%s\"", sep, s.labels[i], labelEscaper.Replace(s.labels[i+1]))
			}
			if len(s.labels) > 0 {
				b = append(b, '}')
			}
			b = append(strconv.AppendInt(append(b, ' '), s.value, 10), '\n')
		}
	}
	return b
}

// What the text format escapes in help texts and in label values.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// metricsContentType is the text format's media type.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// metricsMaxConns is how many connections --metrics serves at once; more
// are closed as soon as accepted. Each is closed after metricsTimeout
// without a request, or when a request or its answer takes longer.
const (
	metricsMaxConns = 64
	metricsTimeout  = 10 * time.Second
)

// metrics is the listener of --metrics: the Prometheus text format at
// /metrics, and h's /healthz and /readyz, over HTTP. It serves until h's
// listeners have all stopped, so that /readyz answers 503 during the drain.
func metrics(addr string, srv *receive.Server, h *health, rl *relay.Relay) (listener, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", metricsContentType)
		writeMetrics(w, srv.Stats(), rl.Outputs())
	})
	mux.HandleFunc("/healthz", h.healthz)
	mux.HandleFunc("/readyz", h.readyz)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return listener{}, fmt.Errorf("--metrics: %w", err)
	}
	ln = &capped{Listener: ln, slots: make(chan struct{}, metricsMaxConns)}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: metricsTimeout, ReadTimeout: metricsTimeout,
		WriteTimeout: metricsTimeout, IdleTimeout: metricsTimeout, MaxHeaderBytes: 8 << 10}
	return listener{
		desc: "metrics " + ln.Addr().String(),
		serve: func(context.Context) error {
			go func() { <-h.stopped; hs.Close() }()
			if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("--metrics: %w", err)
			}
			return nil
		},
		close: ln.Close,
	}, nil
}

// capped is a listener that serves a limited number of connections at
// once and closes any more as soon as it accepts them: a scraper then
// gets an error at once, and the process's descriptors stay for the
// listeners that take records.
type capped struct {
	net.Listener
	slots chan struct{}
}

func (l *capped) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &slotConn{Conn: c, free: func() { <-l.slots }}, nil
		default:
			c.Close()
		}
	}
}

// slotConn frees its listener's slot when closed, once.
type slotConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *slotConn) Close() error {
	c.once.Do(c.free)
	return c.Conn.Close()
}
