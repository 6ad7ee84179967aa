package receive

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/netlog-go/netlog/record"
)

// TestPacketBatchBoundary: datagrams already queued when the reader
// looks, as many as fill its batches exactly, are all decoded without a
// further datagram to wake it. The reader once took a full batch to mean
// "more is queued", kept the datagrams back to fill its chunk, and waited
// for the next datagram with them in hand: a lone hostile datagram then
// was neither reported nor refused until something else arrived
// (TestHostileInput/udp failed so under load).
func TestPacketBatchBoundary(t *testing.T) {
	for _, n := range []int{1, packetBatch - 1, packetBatch, packetBatch + 1, 2 * packetBatch, 3*packetBatch + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			entries := make(chan *record.Entry, n)
			s := &Server{
				Sink:     SinkFunc(func(e *record.Entry) error { entries <- e; return nil }),
				OnRefuse: func(r Report) { t.Errorf("refused: %v", r) },
			}
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			c, err := net.Dial("udp", pc.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := range n { // queued before the server reads
				if _, err := fmt.Fprintf(c, "<14>1 - host app - - - datagram %d", i); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- s.ServeSyslogPacket(ctx, pc) }()
			defer func() { cancel(); <-done }()
			for i := range n {
				select {
				case <-entries:
				case <-time.After(time.Minute):
					t.Fatalf("%d of %d queued datagrams delivered within a minute; stats %+v", i, n, s.Stats())
				}
			}
		})
	}
}
