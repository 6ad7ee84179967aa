package otlp

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/netlog-go/netlog/internal/peer"
)

// TestCollectorRelayedRecord sends a Python record as netlog serve
// relays it (source, thread, process, exception, the sender's address
// and the listener), plain and gzipped, to a real Collector and checks
// every attribute in its file output.
func TestCollectorRelayedRecord(t *testing.T) {
	c := peer.StartCollector(t, peer.CollectorOptions{})
	for i, gzip := range []bool{false, true} {
		s := newSender(t, Config{URL: "http://" + c.HTTP + "/v1/logs", Service: "relay", Gzip: gzip})
		b := frame(pythonRecord)
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		logs := c.Logs(t, i+1, 30*time.Second)
		if len(logs) != i+1 {
			t.Fatalf("gzip %v: the collector wrote %d records", gzip, len(logs))
		}
		l := logs[i]
		if l.Service != "relay" || l.Scope != "app.db" {
			t.Errorf("gzip %v: service %q scope %q", gzip, l.Service, l.Scope)
		}
		want := logRecord(t, mustDecode(t, pythonRecord), l.Record.ObservedTimeUnixNano)
		if !proto.Equal(l.Record, want) {
			t.Errorf("gzip %v: the collector wrote\n%v\nwant\n%v", gzip, l.Record, want)
		}
	}
}
