package receive

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"testing"
)

// readDone is a datagramReader whose last read was the datagrams in it.
type readDone [][]byte

func (r readDone) read() (int, bool, error)          { return len(r), false, nil }
func (r readDone) datagram(i int) ([]byte, net.Addr) { return r[i], nil }
func (readDone) drops() uint64                       { return 0 }
func (readDone) close()                              {}

// reads makes n reads of k numbered datagrams of about 200 bytes each.
func reads(n, k int) []readDone {
	pad := bytes.Repeat([]byte{'x'}, 200)
	rs := make([]readDone, n)
	for i := range rs {
		for j := range k {
			rs[i] = append(rs[i], fmt.Appendf(nil, "%d %s", i*k+j, pad))
		}
	}
	return rs
}

// takeAll takes every chunk until the queue is closed and empty, checks
// that the datagrams come numbered 0, 1, 2, … and releases each chunk;
// it returns how many datagrams and chunks it took.
func takeAll(t *testing.T, q *datagramQueue) (datagrams int, chunks []*datagramChunk) {
	t.Helper()
	for c := q.take(); c != nil; c = q.take() {
		start := 0
		for _, end := range c.ends {
			d := c.data[start:end]
			start = end
			num, _, _ := bytes.Cut(d, []byte(" "))
			if got, err := strconv.Atoi(string(num)); err != nil || got != datagrams {
				t.Fatalf("datagram %d reads %.20q", datagrams, d)
			}
			datagrams++
		}
		chunks = append(chunks, c)
	}
	return datagrams, chunks
}

// TestDatagramQueueCoalesces: while the decoder takes nothing, each read
// is appended to the last chunk queued, so that the queue holds as many
// datagrams as its chunks have room for (a chunk per read held a few
// dozen datagrams at 50,000/s); the decoder gets them all in order, the
// last chunk marked idle as the last read was, and the chunks made
// beyond packetChunks are dropped once free.
func TestDatagramQueueCoalesces(t *testing.T) {
	q := newDatagramQueue()
	rs := reads(2000, 3) // 1.2 MB: about 19 chunks
	for i, r := range rs {
		q.put(r, len(r), i == len(rs)-1)
	}
	q.close()
	n, chunks := takeAll(t, q)
	if n != 6000 {
		t.Fatalf("%d datagrams taken, want 6000", n)
	}
	if want := 6000*200/packetChunk + 2; len(chunks) > want {
		t.Errorf("%d chunks, want %d at most", len(chunks), want)
	}
	for i, c := range chunks {
		if c.idle != (i == len(chunks)-1) {
			t.Errorf("chunk %d of %d: idle %v", i, len(chunks), c.idle)
		}
	}
	for _, c := range chunks {
		q.release(c)
	}
	if q.made != packetChunks || len(q.free) != packetChunks {
		t.Errorf("%d chunks made, %d free after all were released; want %d", q.made, len(q.free), packetChunks)
	}
}

// TestDatagramQueueBounded: a reader that queues more than packetQueue
// chunks hold waits for the decoder to free one, and never has more than
// packetQueue chunks made.
func TestDatagramQueueBounded(t *testing.T) {
	q := newDatagramQueue()
	rs := reads(packetQueue*packetChunk/(200*32)+100, 32)
	go func() {
		for _, r := range rs {
			q.put(r, len(r), false)
		}
		q.close()
	}()
	most := 0
	for c := q.take(); c != nil; c = q.take() {
		q.mu.Lock()
		most = max(most, q.made)
		q.mu.Unlock()
		q.release(c)
	}
	if most > packetQueue {
		t.Errorf("%d chunks made at once, want %d at most", most, packetQueue)
	}
}

// TestDatagramQueueIdleAlone: a read that found nothing queued after a
// full batch marks the socket idle, so that the decoder commits: on the
// last chunk queued, or on an empty one if the decoder took that one.
func TestDatagramQueueIdleAlone(t *testing.T) {
	q := newDatagramQueue()
	r := reads(1, packetBatch)[0]
	q.put(r, len(r), false)
	q.put(readDone{}, 0, true)
	if c := q.take(); len(c.ends) != packetBatch || !c.idle {
		t.Errorf("last chunk queued: %d datagrams, idle %v; want %d, idle", len(c.ends), c.idle, packetBatch)
	}
	q.put(r, len(r), false)
	c := q.take()
	if c.idle {
		t.Error("a full batch's chunk is idle")
	}
	q.put(readDone{}, 0, true)
	if c := q.take(); len(c.ends) != 0 || !c.idle {
		t.Errorf("chunk after the decoder took the last: %d datagrams, idle %v; want none, idle", len(c.ends), c.idle)
	}
}
