package receive_test

import (
	"log/slog"
	"testing"

	"github.com/netlog-go/netlog/internal/entrytest"
	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// TestDecodeInto: decoding into one reused Entry gives what Decode gives,
// for pickles and JSON, and the strings of an earlier record stay intact
// when the Entry and the frame's buffer are reused.
func TestDecodeInto(t *testing.T) {
	frames := [][]byte{
		pickle.Format.AppendEntry(nil, &record.Entry{Name: "first", Msg: "one", Attrs: []slog.Attr{slog.String("k", "v1")}}),
		record.JSONFormat.AppendEntry(nil, &record.Entry{Name: "second", Msg: "two", Attrs: []slog.Attr{slog.Int("n", 2)}}),
		pickle.Format.AppendEntry(nil, &record.Entry{Name: "third", Msg: "three", Attrs: []slog.Attr{slog.Group("g", slog.Bool("b", true))}}),
	}
	var e record.Entry
	var kept []string
	buf := make([]byte, 0, 4096)
	for _, f := range frames {
		buf = append(buf[:0], f...)
		want, err := receive.Decode(buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := receive.DecodeInto(&e, buf); err != nil {
			t.Fatal(err)
		}
		if got, w := entrytest.Canon(&e), entrytest.Canon(want); got != w {
			t.Errorf("DecodeInto:\n%s\nDecode:\n%s", got, w)
		}
		kept = append(kept, e.Name, e.Msg)
		clear(buf) // the receiver reuses its frame buffer
	}
	for i, w := range []string{"first", "one", "second", "two", "third", "three"} {
		if kept[i] != w {
			t.Errorf("string %d of the earlier records is %q, want %q", i, kept[i], w)
		}
	}
	if err := receive.DecodeInto(&e, []byte("cos\nsystem\n.")); err == nil || e.Name != "third" {
		t.Errorf("an unsafe pickle: err %v, Entry %q; want an error and the Entry unchanged", err, e.Name)
	}
}
