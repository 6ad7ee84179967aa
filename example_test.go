package netlog_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
	"github.com/netlog-go/netlog/tlsclient"
)

// startReceiver runs a netlog receiver on a loopback port and calls show
// for each record it decodes.
func startReceiver(show func(*record.Entry)) (addr string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &receive.Server{Sink: receive.SinkFunc(func(e *record.Entry) error { show(e); return nil })}
	done := make(chan struct{})
	go func() { srv.ServeStream(ctx, ln); close(done) }()
	return ln.Addr().String(), func() { cancel(); <-done }
}

// A slog.Logger that sends to netlog serve, or to any receiver of Python's
// SocketHandler (the logging cookbook's, for one).
func ExampleNewSocketHandler() {
	received := make(chan *record.Entry)
	addr, stop := startReceiver(func(e *record.Entry) { received <- e })
	defer stop()

	h, err := netlog.NewSocketHandler("tcp", addr, &netlog.Options{Name: "billing"})
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background())
	log := slog.New(h).With("region", "eu")
	log.Warn("card declined", "order", 1042, slog.Group("card", "brand", "visa"))

	e := <-received
	fmt.Println(e.Name, e.LevelNo, e.LevelName, e.Msg)
	for _, a := range e.Attrs {
		fmt.Println(" ", a)
	}
	// Output:
	// billing 30 WARNING card declined
	//   region=eu
	//   order=1042
	//   card=[brand=visa]
}

// A record that cannot be delivered is an error from Handle (slog.Logger
// drops it, so call Handle or watch Stats) and a count.
func ExampleHandler_Stats() {
	h, err := netlog.NewDatagramHandler("unixgram", "/nonexistent/netlog.sock", nil)
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background())
	slog.New(h).Error("nobody is listening")
	st := h.Stats()
	fmt.Printf("handled %d, written %d, failed %d\n", st.Handled, st.Written, st.Failed)
	// Output:
	// handled 1, written 0, failed 1
}

// Send RFC 5424 with structured data to a syslog collector over TLS,
// verifying its certificate against a CA of your own.
func ExampleNewSyslogHandler() {
	tc, err := tlsclient.New(nil, "/etc/ssl/collector-ca.pem")
	if err != nil {
		fmt.Println(err) // the CA file is missing in this example
		return
	}
	h, err := netlog.NewSyslogHandler("tls", "logs.example.com:6514", &netlog.SyslogOptions{
		Options:  netlog.Options{Name: "billing", TLS: tc},
		Facility: netlog.FacilityLocal0,
	})
	if err != nil {
		panic(err)
	}
	defer h.Close(context.Background())
	slog.New(h).Error("card declined", "msgid", "PAY1", "order", 1042)
	// Output:
	// netlog: CA file: open /etc/ssl/collector-ca.pem: no such file or directory
}
