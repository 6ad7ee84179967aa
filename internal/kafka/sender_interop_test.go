package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/transport"
)

// frames returns the records numbered from to to-1 as a Sender gets them:
// JSON objects behind length prefixes, back to back.
func frames(from, to int) ([]byte, []int) {
	var b []byte
	var ends []int
	for i := from; i < to; i++ {
		start := len(b)
		b = transport.BeginFrame(b)
		b = fmt.Appendf(b, `{"name":"t","levelname":"INFO","msg":"m","i":%d}`, i)
		transport.EndFrame(b, start)
		ends = append(ends, len(b))
	}
	return b, ends
}

func numbers(t *testing.T, k *peer.Kafka) []int {
	var seen []int
	for _, r := range k.Read(t, k.Topic) {
		var v struct{ I int }
		if err := json.Unmarshal([]byte(r.Value), &v); err != nil {
			t.Fatalf("value %q: %v", r.Value, err)
		}
		seen = append(seen, v.I)
	}
	return seen
}

// TestHeldRecordsNotProducedTwice: a WriteFrames that times out with the
// broker down leaves its records with the producer; the retry of the
// same frames waits for them instead of producing them again, and the
// frames after them are produced once. Frames that differ from the held
// ones (the queue dropped those) are produced; the held ones arrive too.
func TestHeldRecordsNotProducedTwice(t *testing.T) {
	k := peer.StartKafka(t, "held")
	s, err := New(Config{Brokers: []string{k.Addr}, Topic: "held", WriteTimeout: 300 * time.Millisecond,
		Backoff: transport.Backoff{Initial: 100 * time.Millisecond, Factor: 2, Max: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b, ends := frames(0, 10)
	if n, err := s.WriteFrames(ctx, b, ends); n != 10 || err != nil {
		t.Fatalf("broker up: %d written, %v", n, err)
	}
	k.Stop(t)
	b, ends = frames(10, 20)
	if n, err := s.WriteFrames(ctx, b, ends); n != 0 || err == nil {
		t.Fatalf("broker down: %d written, %v", n, err)
	}
	if s.RetryAt().IsZero() {
		t.Error("RetryAt is zero while records are held: the queue would back off")
	}
	k.Start(t)
	if n := writeAll(t, s, 10, 30); n != 20 { // the held ten, and ten more
		t.Fatalf("after the restart: %d of 20 written", n)
	}
	k.Stop(t)
	b, ends = frames(30, 35)
	if n, err := s.WriteFrames(ctx, b, ends); n != 0 || err == nil {
		t.Fatalf("broker down: %d written, %v", n, err)
	}
	k.Start(t)
	if n := writeAll(t, s, 35, 40); n != 5 {
		t.Fatalf("after the restart: %d of 5 written", n)
	}
	if sum := peer.Missing(40, numbers(t, k)); sum != "" {
		t.Errorf("read back: %s", sum)
	}
}

// writeAll writes the records numbered from to to-1 as the queue does:
// what was not written is written again, after a pause, until it is.
func writeAll(t *testing.T, s *Sender, from, to int) int {
	b, ends := frames(from, to)
	done, fails := 0, 0
	var last error
	for deadline := time.Now().Add(60 * time.Second); done < len(ends) && time.Now().Before(deadline); {
		start := 0
		if done > 0 {
			start = ends[done-1]
		}
		rest := make([]int, 0, len(ends)-done)
		for _, e := range ends[done:] {
			rest = append(rest, e-start)
		}
		n, err := s.WriteFrames(context.Background(), b[start:], rest)
		done += n
		if err != nil {
			fails, last = fails+1, err
			time.Sleep(time.Until(s.RetryAt()))
		}
	}
	t.Logf("records %d to %d: %d failed writes before all were acknowledged; the last: %v", from, to-1, fails, last)
	return done
}
