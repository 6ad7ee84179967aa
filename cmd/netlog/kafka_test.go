package main

import (
	"context"
	"encoding/json"
	"os/exec"
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
