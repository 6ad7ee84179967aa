package receive_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// TestDatagramPeers: each datagram's record names its own sender, when
// senders alternate within a batch, over IPv4 and IPv6 (the reader hands
// on the last sender's address while the next datagram comes from the
// same one, and the decoder names a sender once).
func TestDatagramPeers(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			host := map[string]string{"udp4": "127.0.0.1", "udp6": "[::1]"}[network]
			pc, err := net.ListenPacket(network, host+":0")
			if err != nil {
				t.Fatal(err)
			}
			type got struct{ peer, msg string }
			records := make(chan got, 100)
			srv := &receive.Server{
				Sink:     receive.SinkFunc(func(e *record.Entry) error { records <- got{e.Peer, e.Msg}; return nil }),
				OnRefuse: func(r receive.Report) { t.Errorf("refused: %v", r) },
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- srv.ServeSyslogPacket(ctx, pc) }()
			defer func() { cancel(); <-done }()
			senders := []net.Conn{dial(t, network, pc.LocalAddr().String()), dial(t, network, pc.LocalAddr().String())}
			// Runs of 1, 2 and 3 datagrams from each, queued before most are read.
			var want []got
			for run := 1; run <= 3; run++ {
				for _, c := range senders {
					for range run {
						m := fmt.Sprintf("datagram %d", len(want))
						if _, err := fmt.Fprintf(c, "<14>1 - host app - - - %s", m); err != nil {
							t.Fatal(err)
						}
						want = append(want, got{c.LocalAddr().String(), m})
					}
				}
			}
			for i, w := range want {
				select {
				case g := <-records:
					if g != w {
						t.Fatalf("record %d: %+v, want %+v", i, g, w)
					}
				case <-time.After(time.Minute):
					t.Fatalf("%d of %d records within a minute; stats %+v", i, len(want), srv.Stats())
				}
			}
		})
	}
}
