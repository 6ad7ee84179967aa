package dedup

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/netlog-go/netlog/record"
)

func TestInOrder(t *testing.T) {
	f := New(100, 0)
	for seq := uint64(1); seq <= 1000; seq++ {
		if f.Seen("a", seq) {
			t.Fatalf("seq %d: a first arrival counted as a duplicate", seq)
		}
	}
	for seq := uint64(901); seq <= 1000; seq++ { // the whole window again
		if !f.Seen("a", seq) {
			t.Fatalf("seq %d: a repeat within the window passed", seq)
		}
	}
	if c := f.Counts(); c.Duplicates != 100 || c.Stale != 0 {
		t.Fatalf("counts %+v, want 100 duplicates, 0 stale", c)
	}
}

func TestReorderedWithinWindow(t *testing.T) {
	f := New(128, 0)
	order := []uint64{1, 3, 2, 10, 5, 4, 9, 6, 8, 7}
	for _, seq := range order {
		if f.Seen("a", seq) {
			t.Fatalf("seq %d (order %v): a first arrival counted as a duplicate", seq, order)
		}
	}
	for _, seq := range order {
		if !f.Seen("a", seq) {
			t.Fatalf("seq %d: a repeat passed", seq)
		}
	}
	if f.Seen("b", 3) { // another sender's numbers are its own
		t.Fatal("id b's seq 3 counted as a duplicate of a's")
	}
}

func TestBeyondWindow(t *testing.T) {
	f := New(64, 0)
	f.Seen("a", 1)
	f.Seen("a", 1000) // a jump past the window forgets 1 and everything before
	if f.Seen("a", 1) {
		t.Fatal("seq 1, 999 behind the top of a 64-record window, dropped as a duplicate")
	}
	if f.Seen("a", 1000-63) {
		t.Fatal("seq 937, within the window but never seen, dropped")
	}
	if !f.Seen("a", 1000-63) {
		t.Fatal("seq 937 seen twice within the window passed")
	}
	if c := f.Counts(); c.Stale != 1 || c.Duplicates != 1 {
		t.Fatalf("counts %+v, want 1 stale, 1 duplicate", c)
	}
	// Bits of numbers the window slid past are cleared, not taken for the
	// numbers that reuse their slots.
	g := New(64, 0)
	for seq := uint64(1); seq <= 64; seq++ {
		g.Seen("a", seq)
	}
	g.Seen("a", 100)
	for seq := uint64(65); seq < 100; seq++ {
		if g.Seen("a", seq) {
			t.Fatalf("seq %d, never seen, dropped (slot of %d)", seq, seq-64)
		}
	}
}

func TestEviction(t *testing.T) {
	f := New(64, 3)
	for i := range 10 {
		f.Seen(fmt.Sprint("id", i), 1)
	}
	if c := f.Counts(); c.Evicted != 7 {
		t.Fatalf("evicted %d ids, want 7 (10 ids, room for 3)", c.Evicted)
	}
	if len(f.ids) != 3 {
		t.Fatalf("%d ids followed, want 3", len(f.ids))
	}
	if !f.Seen("id9", 1) {
		t.Fatal("the newest id was evicted")
	}
	f.Seen("id0", 1) // evicts the least recently seen: id7
	if _, ok := f.ids["id7"]; ok {
		t.Fatal("id7, least recently seen, was kept")
	}
	if _, ok := f.ids["id9"]; !ok {
		t.Fatal("id9, seen most recently, was evicted")
	}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    record.Entry
		ok   bool
	}{
		{"sd", record.Entry{Syslog: &record.Syslog{SD: []record.SDElement{{ID: "netlog@32473",
			Params: []record.SDParam{{Name: "id", Value: "00ff"}, {Name: "peer", Value: "x"}, {Name: "seq", Value: "42"}}}}}}, true},
		{"int", record.Entry{Attrs: []slog.Attr{slog.Int64("netlog_seq", 42), slog.String("netlog_id", "00ff")}}, true},
		{"uint", record.Entry{Attrs: []slog.Attr{slog.Uint64("netlog_seq", 42), slog.String("netlog_id", "00ff")}}, true},
		{"relayed as rfc5424", record.Entry{Syslog: &record.Syslog{SD: []record.SDElement{{ID: "netlog@32473",
			Params: []record.SDParam{{Name: "peer", Value: "x"}}}, {ID: "slog@32473",
			Params: []record.SDParam{{Name: "netlog_id", Value: "00ff"}, {Name: "netlog_seq", Value: "42"}}}}}}, true},
		{"relayed as json", record.Entry{Attrs: []slog.Attr{slog.Group("structured_data",
			slog.Group("netlog@32473", slog.String("id", "00ff"), slog.String("seq", "42")))}}, true},
		{"float", record.Entry{Attrs: []slog.Attr{slog.Float64("netlog_seq", 42), slog.String("netlog_id", "00ff")}}, true},
		{"no id", record.Entry{Attrs: []slog.Attr{slog.Int64("netlog_seq", 42)}}, false},
		{"bad seq", record.Entry{Attrs: []slog.Attr{slog.String("netlog_seq", "x"), slog.String("netlog_id", "00ff")}}, false},
		{"none", record.Entry{}, false},
	} {
		id, seq, ok := Key(&tc.e)
		if ok != tc.ok || ok && (id != "00ff" || seq != 42) {
			t.Errorf("%s: Key = %q %d %v, want 00ff 42 %v", tc.name, id, seq, ok, tc.ok)
		}
	}
}
