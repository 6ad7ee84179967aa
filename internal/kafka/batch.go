package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/netlog-go/netlog/internal/forward"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// The headers a record carries, when its JSON has the field: the last
// two are the sequence number and instance id of Options.Sequence, for a
// consumer to find duplicates without decoding the value.
var headerKeys = [nHeaders]string{"name", "level", "peer", "listener", forward.SeqField, forward.IDField}

const nHeaders = 6

// span is a part of batch.buf.
type span struct{ from, to int }

// item is where one record's parts are in batch.buf.
type item struct {
	value, key span // key.to < 0: no key
	hdr        [nHeaders]span
	present    uint8     // bit i: the record has header i
	created    time.Time // the record's time, Kafka's CreateTime; zero: now
}

// batch is the records of one write: their bytes, copied, so that the
// producer may keep them after the write returns (see WriteFrames), and
// their answers. A batch is reused once all its answers have come.
type batch struct {
	buf   []byte
	items []item
	recs  []kgo.Record
	hdrs  []kgo.RecordHeader
	entry record.Entry // the record being read for its headers

	left    atomic.Int64  // answers still to come
	done    chan struct{} // closed when left reaches 0
	promise func(*kgo.Record, error)
	mu      sync.Mutex
	failed  map[*kgo.Record]error // the records the producer failed, with why
}

func newBatch() *batch {
	bt := &batch{}
	bt.promise = bt.answer
	return bt
}

// payload is a frame's record: the frame less its length prefix.
func payload(frame []byte) []byte { return frame[transport.PrefixLen:] }

// fill makes the records of the frames of b (ending at ends) from the
// first-th on, keyed as key says.
func (bt *batch) fill(key string, b []byte, ends []int, first int) error {
	bt.buf, bt.items, bt.recs, bt.hdrs = bt.buf[:0], bt.items[:0], bt.recs[:0], bt.hdrs[:0]
	clear(bt.failed)
	from := 0
	if first > 0 {
		from = ends[first-1]
	}
	for _, end := range ends[first:] {
		if end-from < transport.PrefixLen {
			return fmt.Errorf("a frame of %d bytes has no length prefix", end-from)
		}
		bt.add(key, payload(b[from:end]))
		from = end
	}
	nh := 0
	for i := range bt.items {
		nh += bits.OnesCount8(bt.items[i].present)
	}
	bt.recs = slices.Grow(bt.recs[:0], len(bt.items))[:len(bt.items)]
	bt.hdrs = slices.Grow(bt.hdrs[:0], nh) // not to grow again: records point into it
	for i := range bt.items {
		bt.recs[i] = bt.record(&bt.items[i])
	}
	return nil
}

// add copies one record and the text of its headers and key into buf.
func (bt *batch) add(key string, p []byte) {
	it := item{key: span{to: -1}}
	it.value = bt.append(p)
	var fields [nHeaders]string
	if record.DecodeJSONInto(&bt.entry, p) == nil {
		e := &bt.entry
		it.created = e.Created
		fields = [nHeaders]string{e.Name, e.LevelName, e.Peer, e.Listener}
		for _, a := range e.Attrs { // a relay's record: netlog serve writes them as attributes
			if i := attrHeader(a); i > 0 && fields[i] == "" {
				fields[i] = a.Value.String()
			}
		}
	}
	for i, f := range fields {
		if f != "" {
			it.hdr[i], it.present = bt.append([]byte(f)), it.present|1<<i
		}
	}
	switch {
	case key == KeyName && fields[0] != "":
		it.key = it.hdr[0]
	case key == KeyPeer && fields[2] != "":
		it.key = it.hdr[2]
	}
	bt.items = append(bt.items, it)
}

// attrHeader is the header index of a top-level attribute: a string
// named peer or listener, or a sequence number or instance id; or 0.
func attrHeader(a slog.Attr) int {
	str := a.Value.Kind() == slog.KindString
	switch {
	case a.Key == "peer" && str:
		return 2
	case a.Key == "listener" && str:
		return 3
	case a.Key == forward.SeqField:
		return 4
	case a.Key == forward.IDField:
		return 5
	}
	return 0
}

func (bt *batch) append(p []byte) span {
	from := len(bt.buf)
	bt.buf = append(bt.buf, p...)
	return span{from, len(bt.buf)}
}

func (bt *batch) bytes(s span) []byte { return bt.buf[s.from:s.to:s.to] }

// record makes the Kafka record of it, its headers in bt.hdrs.
func (bt *batch) record(it *item) kgo.Record {
	r := kgo.Record{Value: bt.bytes(it.value), Timestamp: it.created}
	if it.key.to >= 0 {
		r.Key = bt.bytes(it.key)
	}
	start := len(bt.hdrs)
	for i := range nHeaders {
		if it.present&(1<<i) != 0 {
			bt.hdrs = append(bt.hdrs, kgo.RecordHeader{Key: headerKeys[i], Value: bt.bytes(it.hdr[i])})
		}
	}
	if len(bt.hdrs) > start {
		r.Headers = bt.hdrs[start:len(bt.hdrs):len(bt.hdrs)]
	}
	return r
}

// value is the i-th record's value.
func (bt *batch) value(i int) []byte { return bt.recs[i].Value }

// produce hands the records to the producer. Each record's context is
// ctx: the producer fails a record whose ctx ends before it was sent.
func (bt *batch) produce(ctx context.Context, cl *kgo.Client) {
	bt.done = make(chan struct{})
	bt.left.Store(int64(len(bt.recs)))
	if len(bt.recs) == 0 {
		close(bt.done)
	}
	for i := range bt.recs {
		cl.Produce(ctx, &bt.recs[i], bt.promise)
	}
}

// answer is the producer's promise: r was acknowledged, or failed.
func (bt *batch) answer(r *kgo.Record, err error) {
	if err != nil {
		bt.mu.Lock()
		if bt.failed == nil {
			bt.failed = map[*kgo.Record]error{}
		}
		bt.failed[r] = err
		bt.mu.Unlock()
	}
	if bt.left.Add(-1) == 0 {
		close(bt.done)
	}
}

// waiting reports whether answers are still to come.
func (bt *batch) waiting() bool { return bt.left.Load() > 0 }

// result is the number of records acknowledged, in order, before the
// first that failed, and why it failed. A record the broker refused for
// what it is (too large, invalid) is a transport.Refusal, which counts
// the records acknowledged after it, so that the queue can give it up
// without holding back the others.
func (bt *batch) result() (int, error) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	for i := range bt.recs {
		err := bt.failed[&bt.recs[i]]
		if err == nil {
			continue
		}
		if !refused(err) {
			return i, err
		}
		after := 0
		for j := i + 1; j < len(bt.recs) && bt.failed[&bt.recs[j]] == nil; j++ {
			after++
		}
		return i, &transport.Refusal{After: after, Err: fmt.Errorf("%w: %w", transport.ErrRefused, err)}
	}
	return len(bt.recs), nil
}

// refused reports whether Kafka refused a record for what it is, so that
// sending it again cannot succeed.
func refused(err error) bool {
	for _, e := range []error{kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord, kerr.CorruptMessage} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
