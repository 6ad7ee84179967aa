package kafka

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/netlog-go/netlog/internal/transport"
)

// frameOf is one frame as the root package makes it: a length prefix
// and a JSON record.
func frameOf(b []byte, json string) ([]byte, int) {
	start := len(b)
	b = append(transport.BeginFrame(b), json...)
	transport.EndFrame(b, start)
	return b, len(b)
}

// TestFill: each frame becomes a record whose value is the JSON without
// its prefix, whose headers are the fields present (the sequence number
// and instance id included), whose timestamp is
// created, and whose key is as asked.
func TestFill(t *testing.T) {
	relayed := `{"name":"svc","levelname":"WARNING","created":1796119872.5,"msg":"m","peer":"192.0.2.7:50122","listener":"tcp 127.0.0.1:9020","netlog_seq":7,"netlog_id":"3f2a"}`
	local := `{"name":"svc","levelname":"INFO","msg":"m","g":{"peer":"nested"}}`
	var b []byte
	var ends []int
	for _, j := range []string{relayed, local} {
		var end int
		b, end = frameOf(b, j)
		ends = append(ends, end)
	}
	for _, c := range []struct{ key, relayedKey, localKey string }{
		{KeyName, "svc", "svc"}, {KeyPeer, "192.0.2.7:50122", ""}, {KeyNone, "", ""}, {"", "", ""},
	} {
		bt := newBatch()
		if err := bt.fill(c.key, b, ends, 0); err != nil {
			t.Fatal(err)
		}
		if len(bt.recs) != 2 || string(bt.recs[0].Value) != relayed || string(bt.recs[1].Value) != local {
			t.Fatalf("key=%q: records %+v", c.key, bt.recs)
		}
		if got := headers(bt.recs[0].Headers); got != "name=svc level=WARNING peer=192.0.2.7:50122 listener=tcp 127.0.0.1:9020 netlog_seq=7 netlog_id=3f2a " {
			t.Errorf("relayed record's headers %q", got)
		}
		if got := headers(bt.recs[1].Headers); got != "name=svc level=INFO " { // a nested peer is a group's attribute, not the sender
			t.Errorf("local record's headers %q", got)
		}
		if string(bt.recs[0].Key) != c.relayedKey || string(bt.recs[1].Key) != c.localKey {
			t.Errorf("key=%q: keys %q, %q", c.key, bt.recs[0].Key, bt.recs[1].Key)
		}
		if want := time.Unix(1796119872, 5e8); !bt.recs[0].Timestamp.Equal(want) || !bt.recs[1].Timestamp.IsZero() {
			t.Errorf("timestamps %v, %v", bt.recs[0].Timestamp, bt.recs[1].Timestamp)
		}
	}
	bt := newBatch()
	if err := bt.fill(KeyNone, b, ends, 1); err != nil || len(bt.recs) != 1 || string(bt.recs[0].Value) != local {
		t.Errorf("from the second frame: %v, %+v", err, bt.recs)
	}
}

func headers(hs []kgo.RecordHeader) string {
	s := ""
	for _, h := range hs {
		s += h.Key + "=" + string(h.Value) + " "
	}
	return s
}

// TestResult: the count is of the records acknowledged before the first
// failure; a record Kafka refused for what it is is a Refusal that counts
// the acknowledged records after it.
func TestResult(t *testing.T) {
	other := errors.New("connection reset")
	for _, c := range []struct {
		errs  []error
		n     int
		after int // -1: not a refusal
	}{
		{[]error{nil, nil, nil}, 3, -1},
		{[]error{nil, other, nil}, 1, -1},
		{[]error{nil, kerr.MessageTooLarge, nil, nil, other}, 1, 2},
		{[]error{kerr.InvalidRecord, other}, 0, 0},
	} {
		var b []byte
		var ends []int
		for i := range c.errs {
			var end int
			b, end = frameOf(b, fmt.Sprintf(`{"i":%d}`, i))
			ends = append(ends, end)
		}
		bt := newBatch()
		if err := bt.fill(KeyNone, b, ends, 0); err != nil {
			t.Fatal(err)
		}
		bt.done = make(chan struct{})
		bt.left.Store(int64(len(bt.recs)))
		for i, err := range c.errs {
			bt.answer(&bt.recs[i], err)
		}
		<-bt.done
		n, err := bt.result()
		var rf *transport.Refusal
		switch {
		case n != c.n:
			t.Errorf("%v: %d acknowledged, want %d", c.errs, n, c.n)
		case c.after < 0 && errors.As(err, &rf), c.after >= 0 && (!errors.As(err, &rf) || rf.After != c.after || !errors.Is(err, transport.ErrRefused)):
			t.Errorf("%v: error %#v, want a refusal with %d after: %v", c.errs, err, c.after, c.after >= 0)
		case c.n == len(c.errs) && err != nil, c.n < len(c.errs) && err == nil:
			t.Errorf("%v: error %v", c.errs, err)
		}
	}
}
