package receive_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// TestKernelDropsCounted: with its output stuck and a small receive
// buffer, a syslog UDP listener's kernel drops datagrams; once the output
// moves again, every datagram sent is either received or counted in
// Stats.KernelDrops — exactly.
func TestKernelDropsCounted(t *testing.T) {
	release := make(chan struct{})
	var received atomic.Int64
	srv := &receive.Server{
		ReadBuffer: 4 << 10,
		Sink: receive.SinkFunc(func(*record.Entry) error {
			<-release
			received.Add(1)
			return nil
		}),
		OnRefuse:  func(r receive.Report) { t.Errorf("refused: %v", r) },
		OnWarning: func(err error) { t.Log(err) },
	}
	c := dial(t, "udp", servePacketOn(t, srv.ServeSyslogPacket))
	const burst = 5000
	send := func(i int) {
		if _, err := fmt.Fprintf(c, "<14>1 - host app - - - datagram %d", i); err != nil {
			t.Fatal(err)
		}
	}
	for i := range burst {
		send(i)
	}
	close(release)
	// The kernel reports its drops with the next datagram read, and the
	// first ones sent after the release may find the buffer still full:
	// send one more at a time until everything sent is either received
	// or counted.
	deadline := time.Now().Add(2 * time.Minute)
	for sent := int64(burst); ; sent++ {
		send(int(sent))
		time.Sleep(10 * time.Millisecond)
		got, dropped := received.Load(), int64(srv.Stats().KernelDrops)
		if got+dropped == sent+1 && dropped > 0 {
			t.Logf("%d sent: %d received, %d dropped by the kernel", sent+1, got, dropped)
			return
		}
		if got+dropped > sent+1 {
			t.Fatalf("%d sent, but %d received + %d dropped by the kernel", sent+1, got, dropped)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sent, %d received + %d dropped by the kernel", sent+1, got, dropped)
		}
	}
}
