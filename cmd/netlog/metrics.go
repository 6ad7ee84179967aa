package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/netlog-go/netlog/receive"
)

// collector turns a receive.Server's Stats into Prometheus metrics, read
// at each scrape.
type collector struct{ srv *receive.Server }

var (
	descFrames   = prometheus.NewDesc("netlog_receive_frames_total", "Frames read, good or bad.", nil, nil)
	descRecords  = prometheus.NewDesc("netlog_receive_records_total", "Records handed to the output.", nil, nil)
	descUnparsed = prometheus.NewDesc("netlog_receive_unparsed_total", "Syslog messages that did not parse, printed raw.", nil, nil)
	descRefused  = prometheus.NewDesc("netlog_receive_refused_total", "Frames and connections refused, by reason.", []string{"reason"}, nil)
	descIdle     = prometheus.NewDesc("netlog_receive_idle_closed_total", "Connections closed after the idle timeout.", nil, nil)
	descAccepted = prometheus.NewDesc("netlog_receive_connections_total", "Stream connections accepted, by listener.", []string{"listener"}, nil)
	descActive   = prometheus.NewDesc("netlog_receive_connections_active", "Stream connections being served, by listener.", []string{"listener"}, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFrames, descRecords, descUnparsed, descRefused, descIdle, descAccepted, descActive} {
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
	for reason, n := range st.Refused {
		counter(descRefused, n, string(reason))
	}
	for name, l := range st.Listeners {
		counter(descAccepted, l.Accepted, name)
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(l.Active), name)
	}
}

// metrics is the listener of --metrics: the Prometheus text format at
// /metrics, over HTTP.
func metrics(addr string, srv *receive.Server) (listener, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{srv})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return listener{}, fmt.Errorf("--metrics: %w", err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return listener{
		desc: "metrics " + ln.Addr().String(),
		serve: func(ctx context.Context) error {
			stop := context.AfterFunc(ctx, func() { hs.Close() })
			defer stop()
			if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("--metrics: %w", err)
			}
			return nil
		},
		close: ln.Close,
	}, nil
}
