package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
)

// TestRelayToKafka: Python's SocketHandler → netlog serve --out kafka://
// → kfake: kcat reads the eight records, each with the fields Python
// sent, and the address netlog serve received it from and on as the
// peer and listener headers (and fields), keyed by the peer.
func TestRelayToKafka(t *testing.T) {
	py := peer.Path(t, "python3")
	k := peer.StartKafka(t, "relay")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 1, "--tcp", "127.0.0.1:0", "--udp", "", "--out", "kafka://"+k.Addr+"/relay?key=peer")
	if out, err := exec.Command(py, "../../receive/testdata/py_sender.py", "tcp", s.addrs["tcp"]).CombinedOutput(); err != nil {
		t.Fatalf("py_sender.py: %v: %s", err, out)
	}
	var recs []peer.KafkaRecord
	for deadline := time.Now().Add(time.Minute); len(recs) < 8 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // the relay's output is asynchronous: the topic is the marker
		recs = k.Read(t, "relay")
	}
	if len(recs) != 8 {
		t.Fatalf("kcat read %d records, want 8: %+v", len(recs), recs)
	}
	msgs := []string{"héllo DEBUG ✓", "héllo INFO ✓", "héllo WARNING ✓", "héllo ERROR ✓", "héllo CRITICAL ✓", "héllo Level 25 ✓", "failed", "with stack"}
	for i, r := range recs {
		var v map[string]any
		if err := json.Unmarshal([]byte(r.Value), &v); err != nil {
			t.Fatalf("record %d: %q: %v", i, r.Value, err)
		}
		from := r.Headers["peer"]
		if v["name"] != "py.sender" || v["msg"] != msgs[i] || v["pathname"] == nil || v["lineno"] == nil || v["process"] == nil {
			t.Errorf("record %d: fields %s", i, r.Value)
		}
		if !strings.HasPrefix(from, "127.0.0.1:") || r.Headers["listener"] != "tcp "+s.addrs["tcp"] ||
			r.Headers["name"] != "py.sender" || r.Key == nil || *r.Key != from || v["peer"] != from {
			t.Errorf("record %d: key %v, headers %v, peer field %v", i, r.Key, r.Headers, v["peer"])
		}
		if i < 6 && (v["user"] != "ü" || v["n"] != 3.0) {
			t.Errorf("record %d: Python's extra attributes lost: %s", i, r.Value)
		}
	}
}

// TestRelayKafkaAcknowledges: netlog's RELP client → netlog serve --relp
// --out kafka:// → kfake. What netlog serve acknowledged to the sender is
// in the topic already (read at once, no polling); while the broker is
// down nothing more is acknowledged; once it is back every record is in
// the topic (duplicates, sent again on new RELP sessions, are counted).
func TestRelayKafkaAcknowledges(t *testing.T) {
	const n = 1000
	k := peer.StartKafka(t, "acks")
	rs := startRelay(t, "--out", "kafka://"+k.Addr+"/acks?write-timeout=300ms")
	h := relpSender(t, rs.relp, n)
	defer h.Close(context.Background())
	log := slog.New(h)
	flushWithin := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return h.Flush(ctx)
	}
	for i := range n / 2 {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	if err := flushWithin(3 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if seen := kafkaCounts(t, k, n); slices.Contains(seen[:n/2], 0) {
		_, _, text := gapSummary(seen[:n/2])
		t.Fatalf("acknowledged to the sender but not in Kafka: %s", text)
	}
	k.Stop(t)
	for i := n / 2; i < n; i++ {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	eventually(t, "netlog serve to take records with Kafka down", func() bool {
		return scrape(t, "http://"+rs.metrics+"/metrics")["netlog_receive_records_total"] > n/2
	})
	if err := flushWithin(2 * time.Second); err == nil || h.Stats().Written != n/2 {
		t.Fatalf("with Kafka down: Flush %v, sender stats %+v: want nothing more acknowledged", err, h.Stats())
	}
	k.Start(t)
	if err := flushWithin(3 * time.Minute); err != nil {
		t.Fatal(err)
	}
	missing, dups, text := gapSummary(kafkaCounts(t, k, n))
	if missing != 0 {
		t.Errorf("after Kafka came back: %s", text)
	}
	t.Logf("after Kafka came back: %s (%d duplicates: what the sender sent again on new sessions)", text, dups)
}

// kafkaCounts reads the acks topic: how many times each record is in it.
func kafkaCounts(t *testing.T, k *peer.Kafka, n int) []int {
	t.Helper()
	seen := make([]int, n)
	for _, r := range k.Read(t, "acks") {
		var v struct{ Msg string }
		if err := json.Unmarshal([]byte(r.Value), &v); err != nil {
			t.Fatalf("%q: %v", r.Value, err)
		}
		var i int
		if _, err := fmt.Sscanf(v.Msg, "rec%d.", &i); err == nil && i >= 0 && i < n {
			seen[i]++
		}
	}
	return seen
}
