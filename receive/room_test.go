package receive_test

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// TestSinkKeepsEntries: a Sink other than the Printer may keep the
// Entries it is given (the Server reuses room for records only for the
// Printer, which keeps none): after many chunks' worth of syslog messages
// and netlog frames, every kept Entry still holds its own record.
func TestSinkKeepsEntries(t *testing.T) {
	const n = 500
	for _, c := range []struct {
		name  string
		frame func(i int) []byte
	}{
		{"syslog", func(i int) []byte {
			m := fmt.Sprintf(`<165>1 2026-12-01T04:30:00Z host app - - [id@1 n="%d"] message %d`, i, i)
			return fmt.Appendf(nil, "%d %s", len(m), m)
		}},
		{"pickle", func(i int) []byte {
			p := pickle.Format.AppendEntry(nil, &record.Entry{Name: "app", Msg: fmt.Sprintf("message %d", i)})
			return append([]byte{byte(len(p) >> 24), byte(len(p) >> 16), byte(len(p) >> 8), byte(len(p))}, p...)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var kept []*record.Entry
			srv := &receive.Server{
				Sink: receive.SinkFunc(func(e *record.Entry) error {
					mu.Lock()
					defer mu.Unlock()
					kept = append(kept, e)
					return nil
				}),
				OnRefuse: func(r receive.Report) { t.Errorf("refused: %v", r) },
			}
			serve := srv.ServeStream
			if c.name == "syslog" {
				serve = srv.ServeSyslogStream
			}
			conn := dial(t, "tcp", serveOn(t, serve))
			var in []byte
			for i := range n {
				in = append(in, c.frame(i)...)
			}
			if _, err := conn.Write(in); err != nil {
				t.Fatal(err)
			}
			conn.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, conn) // the server's close: every record is handed over
			mu.Lock()
			defer mu.Unlock()
			if len(kept) != n {
				t.Fatalf("%d records, want %d", len(kept), n)
			}
			for i, e := range kept {
				if want := fmt.Sprintf("message %d", i); e.Msg != want {
					t.Fatalf("record %d: Msg %q, want %q", i, e.Msg, want)
				}
				if c.name == "syslog" && e.Syslog.SD[0].Params[0].Value != fmt.Sprint(i) {
					t.Fatalf("record %d: SD %v", i, e.Syslog.SD)
				}
			}
		})
	}
}
