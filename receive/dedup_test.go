package receive

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog/record"
)

// TestDedup: with Dedup, a numbered record that comes again is not handed
// to the Sink and is counted; another sender's same number, and records
// without numbers, pass.
func TestDedup(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := &Server{Dedup: 1000, Sink: SinkFunc(func(e *record.Entry) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e.Msg)
		return nil
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeStream(ctx, ln) }()
	defer func() { cancel(); <-done }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var frames []byte
	for _, r := range []struct {
		msg, id string
		seq     int
	}{{"a1", "a", 1}, {"a2", "a", 2}, {"a1 again", "a", 1}, {"b1", "b", 1}, {"a2 again", "a", 2}, {"a3", "a", 3}, {"none", "", 0}, {"none again", "", 0}} {
		payload := fmt.Sprintf(`{"msg":%q}`, r.msg)
		if r.id != "" {
			payload = fmt.Sprintf(`{"msg":%q,"netlog_seq":%d,"netlog_id":%q}`, r.msg, r.seq, r.id)
		}
		frames = binary.BigEndian.AppendUint32(frames, uint32(len(payload)))
		frames = append(frames, payload...)
	}
	if _, err := c.Write(frames); err != nil {
		t.Fatal(err)
	}
	c.Close()
	want := "[a1 a2 b1 a3 none none again]"
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		s := fmt.Sprint(got)
		mu.Unlock()
		if s == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Sink got %s, want %s", s, want)
		}
		time.Sleep(10 * time.Millisecond) // the Sink has no signal to wait on but its records
	}
	if st := srv.Stats(); st.Duplicates != 2 || st.Records != 6 {
		t.Fatalf("stats: %d duplicates, %d records; want 2 and 6", st.Duplicates, st.Records)
	}
}

// ticketSink is a Committer that only counts tickets.
type ticketSink struct{ n Ticket }

func (s *ticketSink) Write(*record.Entry) error            { return nil }
func (s *ticketSink) Add(*record.Entry) (Ticket, error)    { s.n++; return s.n, nil }
func (s *ticketSink) Commit(context.Context, Ticket) error { return nil }

// numbered is a record of sender "a" numbered seq.
func numbered(t *testing.T, msg string, seq int) *record.Entry {
	e, err := Decode(fmt.Appendf(nil, `{"msg":%q,"netlog_seq":%d,"netlog_id":"a"}`, msg, seq))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDedupHoldsAck: a connection that got only a duplicate commits the
// ticket of the record added before it, its first copy (from another
// connection), so that its acknowledgment waits for that copy's write.
func TestDedupHoldsAck(t *testing.T) {
	sink := &ticketSink{}
	srv := &Server{Dedup: 100, Sink: sink}
	var first, second commitPoint
	srv.hand(&first, numbered(t, "x", 1), "l", "p1")
	srv.hand(&first, numbered(t, "y", 2), "l", "p1")
	if _, err := srv.hand(&second, numbered(t, "x again", 1), "l", "p2"); err != nil {
		t.Fatal(err)
	}
	if !second.pending || second.last != 2 {
		t.Fatalf("the duplicate's connection commits %+v, want up to ticket 2, its first copy's batch", second)
	}
	if sink.n != 2 {
		t.Fatalf("the Sink took %d records, want 2", sink.n)
	}
}
