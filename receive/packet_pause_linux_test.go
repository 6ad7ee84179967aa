package receive

import (
	"net"
	"testing"
)

// TestBatchReaderPauses: a read that takes datagrams and empties the
// socket's queue makes the next read pause first, but only where the
// socket's buffer is large enough to hold what comes meanwhile; a full
// batch never does.
func TestBatchReaderPauses(t *testing.T) {
	for _, size := range []int{64 << 10, 4 << 20} {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		granted, err := setSocketBuffer(pc, size)
		if err != nil {
			t.Fatal(err)
		}
		r := newDatagramReader(pc, 2048).(*batchReader)
		defer r.close()
		c, err := net.Dial("udp", pc.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		send := func(k int) {
			for range k {
				if _, err := c.Write([]byte("<14>1 - host app - - - x")); err != nil {
					t.Fatal(err)
				}
			}
		}
		send(packetBatch) // loopback queues a datagram before the write returns
		if n, full, err := r.read(); err != nil || n != packetBatch || !full || r.pause {
			t.Fatalf("buffer of %d: a full batch: %d datagrams, full %v, pause %v, %v", granted, n, full, r.pause, err)
		}
		send(3)
		n, full, err := r.read()
		if want := granted >= gatherBuffer; err != nil || n != 3 || full || r.pause != want {
			t.Fatalf("buffer of %d: %d datagrams, full %v, pause %v, %v; want 3, pause %v", granted, n, full, r.pause, err, want)
		}
		send(1)
		if n, _, err := r.read(); err != nil || n != 1 {
			t.Fatalf("buffer of %d: after the pause: %d datagrams, %v", granted, n, err)
		}
	}
}
