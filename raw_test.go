package netlog_test

import (
	"net"
	"testing"
	"time"
)

// rawUDP receives datagrams as they are, for checking exact bytes.
type rawUDP struct {
	addr string
	got  chan string
}

func startRaw(t *testing.T) *rawUDP {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	r := &rawUDP{addr: pc.LocalAddr().String(), got: make(chan string, 16)}
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			r.got <- string(buf[:n])
		}
	}()
	return r
}

func (r *rawUDP) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-r.got:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no datagram arrived")
		return ""
	}
}
