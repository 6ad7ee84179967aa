package receive_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// A receiver of your own: records from Python's SocketHandler or netlog's
// handlers, decoded, into any Sink.
func ExampleServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	got := make(chan *record.Entry, 1)
	srv := &receive.Server{Sink: receive.SinkFunc(func(e *record.Entry) error { got <- e; return nil })}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.ServeStream(ctx, ln) }()

	h, _ := netlog.NewSocketHandler("tcp", ln.Addr().String(), &netlog.Options{Name: "worker"})
	slog.New(h).Info("job done", "jobs", 3)
	e := <-got
	fmt.Println(e.Name, e.LevelName, e.Msg, e.Attrs)

	h.Close(context.Background())
	stop()
	fmt.Println(<-done, srv.Stats().Records)
	// Output:
	// worker INFO job done [jobs=3]
	// <nil> 1
}

// netlog serve's json output, in a program of your own.
func ExamplePrinter() {
	p := &receive.Printer{W: os.Stdout, JSON: true}
	p.Write(&record.Entry{Name: "app", Msg: "hi", LevelNo: 20, LevelName: "INFO", Lineno: 3,
		Attrs: []slog.Attr{slog.String("user", "ana")}})
	// Output:
	// {"name":"app","args":null,"exc_info":null,"thread":null,"threadName":null,"processName":null,"process":0,"pathname":"","filename":"","module":"","lineno":3,"funcName":"","msg":"hi","levelname":"INFO","levelno":20,"user":"ana"}
}
