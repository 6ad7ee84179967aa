package netlog_test

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// Python's DatagramHandler: one record per UDP datagram, read here by
// netlog's receiver. A record over MaxDatagram is refused whole with
// ErrTooLarge.
func ExampleNewDatagramHandler() {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	received := make(chan *record.Entry)
	srv := &receive.Server{Sink: receive.SinkFunc(func(e *record.Entry) error { received <- e; return nil })}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.ServePacket(ctx, pc) }()
	defer func() { stop(); <-done }()

	h, err := netlog.NewDatagramHandler("udp", pc.LocalAddr().String(), &netlog.Options{Name: "metrics"})
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background())
	slog.New(h).Info("tick", "load", 0.5)
	e := <-received
	fmt.Println(e.Name, e.Msg, e.Attrs)
	// Output:
	// metrics tick [load=0.5]
}

// Asynchronous delivery: Handle queues and returns; Flush waits until
// what was queued before it is written (or, at ctx's end, says how much
// is still pending).
func ExampleAsync() {
	received := make(chan *record.Entry, 3)
	addr, stop := startReceiver(func(e *record.Entry) { received <- e })
	defer stop()

	h, err := netlog.NewSocketHandler("tcp", addr, &netlog.Options{
		Async: &netlog.Async{MaxRecords: 10_000, Overflow: netlog.DropOldest},
	})
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background()) // bounded by DefaultCloseTimeout
	log := slog.New(h)
	for i := range 3 {
		log.Info("queued", "i", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		panic(err)
	}
	st := h.Stats()
	fmt.Println("written", st.Written, "pending", st.Pending)
	// Output:
	// written 3 pending 0
}

// OnError tells the program why records fail, off the caller's
// goroutine; Stats.LastError keeps the latest.
func ExampleOptions_onError() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now

	failures := make(chan error, 1)
	h, err := netlog.NewSocketHandler("tcp", addr, &netlog.Options{
		Async:   &netlog.Async{},
		OnError: func(err error) { failures <- err },
	})
	if err != nil {
		panic(err)
	}
	slog.New(h).Error("payment failed")

	var e *netlog.Error
	if errors.As(<-failures, &e) {
		fmt.Println("cause:", e.Cause, "records:", e.Records)
	}
	fmt.Println("last error kept:", h.Stats().LastError != nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = h.Close(ctx)
	fmt.Println("closed, record dropped:", errors.Is(err, netlog.ErrClosed))
	// Output:
	// cause: dial records: 1
	// last error kept: true
	// closed, record dropped: true
}

// netlog registers nothing in expvar; a program that serves /debug/vars
// publishes a handler's counters with one call.
func ExampleHandler_expvar() {
	h, err := netlog.NewSocketHandler("tcp", "127.0.0.1:9020", nil)
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background())
	expvar.Publish("netlog_example", expvar.Func(func() any { return h.Stats() }))
	fmt.Println(expvar.Get("netlog_example") != nil)
	// Output:
	// true
}

// One options value for whatever URL a program is configured with:
// fields that do not apply to the scheme are ignored, so the same
// defaults open a TLS collector, an SMTP server or the console.
func ExampleOpen_console() {
	defaults := &netlog.Options{
		Level: slog.LevelDebug,
		Async: &netlog.Async{}, // for network schemes; the console ignores it
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // a stable output for this example
			}
			return a
		},
	}
	h, err := netlog.Open("stdout://?format=json", defaults) // from $LOG_URL, say
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background())
	slog.New(h).Debug("starting", "port", 8080)
	// Output:
	// {"level":"DEBUG","msg":"starting","port":8080}
}

var registerErrorsOnly sync.Once

// A program's own destination, named by the same setting as the built-in
// ones.
func ExampleRegisterScheme() {
	registerErrorsOnly.Do(func() { // once per program, as in an init function
		netlog.RegisterScheme("errors-only", func(u *url.URL, o *netlog.Options) (netlog.Handler, error) {
			return netlog.Open("stderr://?level=error", o) // stands in for the program's own handler
		})
	})
	h, err := netlog.Open("errors-only://", nil)
	fmt.Println(err, h.Enabled(context.Background(), slog.LevelInfo))
	// Output:
	// <nil> false
}

// With Async.Dir the queue is kept in files: what a handler could not
// deliver before it closed, or before its process was killed, the next
// handler on the same directory sends first.
func ExampleAsync_durable() {
	dir, err := os.MkdirTemp("", "netlog-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "collector.sock") // nothing listens yet
	opts := &netlog.Options{Async: &netlog.Async{Dir: filepath.Join(dir, "queue")}}

	h, err := netlog.NewSocketHandler("unix", sock, opts)
	if err != nil {
		panic(err)
	}
	for i := range 3 {
		slog.New(h).Info("kept", "i", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	h.Close(ctx) // the collector is down: the records stay in the files
	fmt.Println("stored", h.Stats().Stored)

	ln, err := net.Listen("unix", sock)
	if err != nil {
		panic(err)
	}
	received := make(chan *record.Entry, 3)
	srv := &receive.Server{Sink: receive.SinkFunc(func(e *record.Entry) error { received <- e; return nil })}
	go srv.ServeStream(context.Background(), ln)
	defer ln.Close()

	h, err = netlog.NewSocketHandler("unix", sock, opts)
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background())
	fmt.Println("recovered", h.Stats().Recovered)
	for range 3 {
		e := <-received
		fmt.Println(e.Msg, e.Attrs[0])
	}
	// Output:
	// stored 3
	// recovered 3
	// kept i=0
	// kept i=1
	// kept i=2
}
