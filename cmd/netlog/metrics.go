package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/netlog-go/netlog/internal/relay"
	"github.com/netlog-go/netlog/receive"
)

// collector turns a receive.Server's Stats into Prometheus metrics, read
// at each scrape.
type collector struct {
	srv   *receive.Server
	relay *relay.Relay
}

var (
	descFrames   = prometheus.NewDesc("netlog_receive_frames_total", "Frames read, good or bad.", nil, nil)
	descRecords  = prometheus.NewDesc("netlog_receive_records_total", "Records handed to the output.", nil, nil)
	descUnparsed = prometheus.NewDesc("netlog_receive_unparsed_total", "Syslog messages that did not parse, printed raw.", nil, nil)
	descRefused  = prometheus.NewDesc("netlog_receive_refused_total", "Frames and connections refused, by reason.", []string{"reason"}, nil)
	descIdle     = prometheus.NewDesc("netlog_receive_idle_closed_total", "Connections closed after the idle timeout.", nil, nil)
	descAccepted = prometheus.NewDesc("netlog_receive_connections_total", "Stream connections accepted, by listener.", []string{"listener"}, nil)
	descActive   = prometheus.NewDesc("netlog_receive_connections_active", "Stream connections being served, by listener.", []string{"listener"}, nil)
	descAcceptEr = prometheus.NewDesc("netlog_receive_accept_errors_total", "Failed accepts (out of descriptors, …), retried, by listener.", []string{"listener"}, nil)
	descSilent   = prometheus.NewDesc("netlog_receive_silent_closed_total", "Connections closed after the handshake timeout without a byte sent.", nil, nil)
	descMemUsed  = prometheus.NewDesc("netlog_receive_memory_used_bytes", "Bytes of the memory budget charged to connections' buffers.", nil, nil)
	descMemWaits = prometheus.NewDesc("netlog_receive_memory_waits_total", "Times a connection's reading waited for the memory budget.", nil, nil)
	descJoined   = prometheus.NewDesc("netlog_receive_syslog_joined_lines_total", "Lines of LF-framed syslog joined to the message before them (multi-line messages).", nil, nil)
	descJoinCuts = prometheus.NewDesc("netlog_receive_syslog_join_cuts_total", "Joined syslog messages cut at --max-frame, the rest printed as further records.", nil, nil)
	descKDrops   = prometheus.NewDesc("netlog_receive_kernel_drops_total", "Datagrams the kernel dropped with a socket's receive buffer full (Linux).", nil, nil)
	descDups     = prometheus.NewDesc("netlog_receive_duplicates_total", "Records --dedup dropped as sent again by their sender.", nil, nil)
	descDedupEv  = prometheus.NewDesc("netlog_receive_dedup_evicted_total", "Sender instances --dedup stopped following to follow new ones.", nil, nil)
	descDedupOld = prometheus.NewDesc("netlog_receive_dedup_stale_total", "Numbered records older than their sender's --dedup window, passed on unchecked.", nil, nil)
	descOutDeliv = prometheus.NewDesc("netlog_output_delivered_total", "Records an output delivered (for RELP: acknowledged by the server), by output URL.", []string{"output"}, nil)
	descOutDrop  = prometheus.NewDesc("netlog_output_dropped_total", "Records an output gave up, by output URL and reason.", []string{"output", "reason"}, nil)
	descOutQueue = prometheus.NewDesc("netlog_output_queued", "Records an output holds, not yet delivered or dropped, by output URL.", []string{"output"}, nil)
	descOutMoves = prometheus.NewDesc("netlog_output_switches_total", "Moves of an output with fallbacks to its next destination (failover) or back to its first (failback), by output URL.", []string{"output", "kind"}, nil)
	descOutRecov = prometheus.NewDesc("netlog_output_recovered_total", "Records an output with spool=DIR found there at start, left by an earlier netlog serve, by output URL.", []string{"output"}, nil)
	descOutBad   = prometheus.NewDesc("netlog_output_corrupt_total", "Damaged frames an output with spool=DIR found there and skipped, by output URL.", []string{"output"}, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFrames, descRecords, descUnparsed, descRefused, descIdle, descAccepted, descActive, descAcceptEr, descSilent, descMemUsed, descMemWaits, descJoined, descJoinCuts, descKDrops, descDups, descDedupEv, descDedupOld, descOutDeliv, descOutDrop, descOutQueue, descOutMoves, descOutRecov, descOutBad} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descFrames, st.Frames)
	counter(descRecords, st.Records)
	counter(descUnparsed, st.Unparsed)
	counter(descIdle, st.IdleClosed)
	counter(descSilent, st.SilentClosed)
	counter(descMemWaits, st.MemoryWaits)
	counter(descJoined, st.JoinedLines)
	counter(descJoinCuts, st.JoinCuts)
	counter(descKDrops, st.KernelDrops)
	counter(descDups, st.Duplicates)
	counter(descDedupEv, st.DedupEvicted)
	counter(descDedupOld, st.DedupStale)
	ch <- prometheus.MustNewConstMetric(descMemUsed, prometheus.GaugeValue, float64(st.MemoryUsed))
	for reason, n := range st.Refused {
		counter(descRefused, n, string(reason))
	}
	for name, l := range st.Listeners {
		counter(descAccepted, l.Accepted, name)
		counter(descAcceptEr, l.AcceptErrors, name)
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(l.Active), name)
	}
	for _, o := range c.relay.Outputs() {
		st := o.Stats()
		counter(descOutDeliv, st.Delivered, o.Name())
		for reason, n := range st.Dropped {
			counter(descOutDrop, n, o.Name(), reason)
		}
		ch <- prometheus.MustNewConstMetric(descOutQueue, prometheus.GaugeValue, float64(st.Queued), o.Name())
		counter(descOutMoves, st.Failovers, o.Name(), "failover")
		counter(descOutMoves, st.Failbacks, o.Name(), "failback")
		counter(descOutRecov, st.Recovered, o.Name())
		counter(descOutBad, st.Corrupt, o.Name())
	}
}

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
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{srv, rl})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
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
