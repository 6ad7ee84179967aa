package receive_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testrecv"
	"github.com/netlog-go/netlog/receive"
)

// frame returns payload behind its length prefix.
func frame(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// hostile is one bad peer: what it sends and how the receiver must refuse it.
type hostile struct {
	name    string
	network string // "tcp" or "udp"
	bytes   []byte
	reason  receive.Reason
}

// TestHostileInput sends each kind of bad input while a well-behaved
// netlog handler streams records over its own connection. Each bad peer
// is refused with its own address and the right reason; the good
// sender's records all arrive, in order.
func TestHostileInput(t *testing.T) {
	proof := filepath.Join(t.TempDir(), "pwned")
	evil := []byte("cos\nsystem\n(S'touch " + proof + "'\ntR.")
	rnd := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rnd.Uint32())
	}
	garbage[0] = 0x7f // a prefix over the limit: random bytes, as such bytes mostly are
	mismatched := append(binary.BigEndian.AppendUint32(nil, 500), "short"...)
	cases := []hostile{
		{"pickle that runs os.system", "tcp", frame(evil), receive.ReasonUnsafe},
		{"4 GiB length prefix", "tcp", []byte{0xff, 0xff, 0xff, 0xff, 'x'}, receive.ReasonTooLarge},
		{"truncated frame", "tcp", append(binary.BigEndian.AppendUint32(nil, 100), "only ten b"...), receive.ReasonTruncated},
		{"random bytes", "tcp", garbage, receive.ReasonTooLarge},
		{"random payload", "tcp", frame(garbage[1:]), receive.ReasonMalformed},
		{"broken JSON", "tcp", frame([]byte(`{"msg":`)), receive.ReasonMalformed},
		{"datagram prefix disagrees", "udp", mismatched, receive.ReasonMismatch},
		{"datagram pickle that runs os.system", "udp", frame(evil), receive.ReasonUnsafe},
		{"datagram of two bytes", "udp", []byte{0, 1}, receive.ReasonTruncated},
	}
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			r := testrecv.Start(t, network)
			// UDP may drop what overflows the socket buffer (rmem_max, often
			// 208 KiB of kernel accounting); 100 datagrams fit in it.
			good := 300
			if network == "udp" {
				good = 100
			}
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the well-behaved sender, connected throughout
				defer wg.Done()
				newH := netlog.NewSocketHandler
				if network == "udp" {
					newH = netlog.NewDatagramHandler
				}
				h, err := newH(network, r.Addr, nil)
				if err != nil {
					t.Error(err)
					return
				}
				defer h.Close(context.Background())
				log := slog.New(h)
				for i := range good {
					log.Info("good", "seq", i)
				}
				if st := h.Stats(); st.Written != uint64(good) {
					t.Errorf("good sender: %+v", st)
				}
			}()
			want := map[receive.Reason]uint64{}
			for _, c := range cases {
				if c.network != network {
					continue
				}
				want[c.reason]++
				conn, err := net.Dial(network, r.Addr)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.Write(c.bytes); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if c.reason == receive.ReasonTruncated && network == "tcp" {
					conn.(*net.TCPConn).CloseWrite() // the peer hangs up mid-frame
				}
				rep := r.NextReport(t)
				if rep.Reason != c.reason || rep.Peer != conn.LocalAddr().String() || rep.Err == nil {
					t.Errorf("%s: report %v, want reason %s from %s", c.name, rep, c.reason, conn.LocalAddr())
				}
				conn.Close()
			}
			wg.Wait()
			for i := range good {
				e := r.Next(t)
				if attrs := testrecv.Map(e); attrs["seq"] != int64(i) {
					t.Fatalf("good record %d arrived as seq %v", i, attrs["seq"])
				}
			}
			st := r.Server.Stats()
			if st.Records != uint64(good) || fmt.Sprint(st.Refused) != fmt.Sprint(want) {
				t.Errorf("stats %+v, want %d records and refusals %v", st, good, want)
			}
			if _, err := os.Stat(proof); !os.IsNotExist(err) {
				t.Fatal("the os.system pickle ran")
			}
		})
	}
}
