package receive_test

import (
	"context"
	"log/slog"
	"net"
	"os"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// Received records into any slog.Handler — here slog's JSON handler on
// stdout — with their attributes, groups and the sender's address.
func ExampleSlogSink() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	forwarded := make(chan struct{})
	json := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "peer": // vary from run to run
				return slog.Attr{}
			}
			return a
		},
	})
	srv := &receive.Server{Sink: receive.SinkFunc(func(e *record.Entry) error {
		defer close(forwarded)
		return receive.SlogSink(json).Write(e)
	})}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.ServeStream(ctx, ln) }()

	h, err := netlog.NewSocketHandler("tcp", ln.Addr().String(), &netlog.Options{Name: "web"})
	if err != nil {
		panic(err)
	}
	slog.New(h).WithGroup("req").Warn("slow", "ms", 1200)
	<-forwarded
	h.Close(context.Background())
	stop()
	<-done
	// Output:
	// {"level":"WARN","msg":"slow","logger":"web","req":{"ms":1200}}
}
