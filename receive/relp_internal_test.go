package receive

import (
	"net"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/relp"
)

// TestRELPAcksSendsRuns: a commit's answers, runs of messages and other
// answers, go out in order, each with its txnr, over several writes when
// they are more than relpWrite bytes; a failed commit answers the
// messages "500 not delivered", not the other commands.
func TestRELPAcksSendsRuns(t *testing.T) {
	for _, committed := range []bool{true, false} {
		server, client := net.Pipe()
		a := newRELPAcks(&Server{}, &conn{Conn: server})
		a.pending = []relpAnswer{
			{txnr: 1, text: relp.OK, held: true, run: 2000},
			{txnr: 2001, text: "500 unknown command", run: 1},
			{txnr: 2002, text: relp.OK, held: true, run: 3},
		}
		done := make(chan error, 1)
		go func() { done <- a.send(committed); server.Close() }()
		client.SetReadDeadline(time.Now().Add(time.Minute))
		rd := relp.NewReader(client, 1024)
		for txnr := 1; txnr <= 2004; txnr++ {
			want := relp.OK
			switch {
			case txnr == 2001:
				want = "500 unknown command"
			case !committed:
				want = notDelivered
			}
			f, err := rd.Next()
			if err != nil || f.Txnr != txnr || f.Command != "rsp" || string(f.Data) != want {
				t.Fatalf("committed %v: answer %d: %d %s %q, %v; want %q", committed, txnr, f.Txnr, f.Command, f.Data, err, want)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if len(a.pending) != 0 || len(a.out) != 0 || cap(a.out) > 2*relpWrite {
			t.Errorf("after send: %d pending, %d bytes of answers held, a buffer of %d", len(a.pending), len(a.out), cap(a.out))
		}
	}
}

// BenchmarkRELPAcksSend formats and writes a commit's answers to a run
// of 256 messages; ns/op is per answer.
func BenchmarkRELPAcksSend(b *testing.B) {
	a := newRELPAcks(&Server{}, &conn{Conn: discard{}})
	txnr := 1_000_000
	b.ReportAllocs()
	for b.Loop() {
		a.pending = append(a.pending[:0], relpAnswer{txnr: txnr, text: relp.OK, held: true, run: 256})
		if err := a.send(true); err != nil {
			b.Fatal(err)
		}
		txnr += 256
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/answer")
}

// discard is a connection that takes every write.
type discard struct{ net.Conn }

func (discard) Write(p []byte) (int, error)      { return len(p), nil }
func (discard) SetWriteDeadline(time.Time) error { return nil }
