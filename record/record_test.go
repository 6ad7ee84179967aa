package record_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"github.com/netlog-go/netlog/record"
)

func TestLevels(t *testing.T) {
	for _, c := range []struct {
		level slog.Level
		no    int
		name  string
	}{
		{slog.LevelDebug, 10, "DEBUG"}, {slog.LevelInfo, 20, "INFO"},
		{slog.LevelWarn, 30, "WARNING"}, {slog.LevelError, 40, "ERROR"},
		{12, 50, "CRITICAL"}, {2, 25, "Level 25"}, {-8, 0, "NOTSET"}, {-2, 15, "Level 15"},
	} {
		if no := record.LevelNo(c.level); no != c.no || record.LevelName(no) != c.name {
			t.Errorf("level %d → %d %q, want %d %q", c.level, no, record.LevelName(no), c.no, c.name)
		}
		if back := record.LevelFromNo(c.no); back != c.level {
			t.Errorf("LevelFromNo(%d) = %d, want %d", c.no, back, c.level)
		}
	}
}

func TestAttrKey(t *testing.T) {
	for in, want := range map[string]string{
		"name": "name_", "msg": "msg_", "message": "message_", "created": "created_",
		"user": "user", "exc_text": "exc_text", "taskName": "taskName",
	} {
		if got := record.AttrKey(in); got != want {
			t.Errorf("AttrKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJSONStrings checks the hand-written string quoting against
// encoding/json for arbitrary strings, invalid UTF-8 included.
func TestJSONStrings(t *testing.T) {
	f := func(s string) bool {
		b := record.JSON.String(nil, s)
		var got string
		if err := json.Unmarshal(b[:len(b)-1], &got); err != nil {
			t.Logf("%q: %v", b, err)
			return false
		}
		return got == strings.ToValidUTF8(s, "\ufffd")
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
	for _, s := range []string{"\x00\x1f\"\\\n\r\t", "a\xffb", "✓ ü", ""} {
		if !f(s) {
			t.Errorf("%q does not survive", s)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := &record.Entry{
		Name: "app", Msg: "line1\nline2 \"q\"", LevelNo: 40, LevelName: "ERROR",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC), Relative: 1500 * time.Microsecond,
		Pathname: "/a/b.go", Filename: "b.go", Module: "b", Lineno: 9, FuncName: "f",
		Thread: 77, ThreadName: "t", Process: 5, ProcessName: "p", TaskName: "task",
		ExcText: "exc", StackInfo: "stack",
		Attrs: []slog.Attr{
			slog.Float64("nan", math.NaN()), slog.Float64("tiny", 1e-9), slog.Float64("huge", 1e300),
			slog.Time("at", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)),
			slog.Group("g", slog.Int("i", -3), slog.Group("empty"), slog.Bool("b", true)),
			{}, slog.Group("", slog.String("inlined", "yes")), slog.String("name", "clash"),
		},
	}
	b := record.JSONFormat.AppendEntry(nil, in)
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	out, err := record.DecodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Created.Equal(in.Created) || out.Name != in.Name || out.Msg != in.Msg ||
		out.Thread != 77 || out.TaskName != "task" || out.StackInfo != "stack" || out.Lineno != 9 {
		t.Errorf("standard fields: got %+v", *out)
	}
	var keys []string
	for _, a := range out.Attrs {
		keys = append(keys, a.Key+"="+a.Value.String())
	}
	want := "nan=NaN tiny=1e-09 huge=1e+300 at=2026-01-02T00:00:00Z g=[i=-3 b=true] inlined=yes name_=clash"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("attrs:\n got %s\nwant %s", got, want)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	deep := strings.Repeat(`{"a":`, record.MaxDepth+1) + "1" + strings.Repeat("}", record.MaxDepth+1)
	for name, in := range map[string]string{
		"array": "[1]", "trailing": `{"msg":"x"} {}`, "deep": deep, "broken": `{"msg":`,
	} {
		if _, err := record.DecodeJSON([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestFieldsFromDict: each LogRecord field is recognized by name (the
// fast paths' perfect hash), and near misses are attributes.
func TestFieldsFromDict(t *testing.T) {
	e := record.FromDict([]record.KV{
		{Key: "name", Value: "n"}, {Key: "msg", Value: "m"}, {Key: "levelname", Value: "L"},
		{Key: "pathname", Value: "p"}, {Key: "filename", Value: "f"}, {Key: "module", Value: "mo"},
		{Key: "funcName", Value: "fn"}, {Key: "threadName", Value: "tn"}, {Key: "processName", Value: "pn"},
		{Key: "taskName", Value: "tk"}, {Key: "exc_text", Value: "x"}, {Key: "stack_info", Value: "s"},
		{Key: "thread", Value: int64(1)}, {Key: "levelno", Value: int64(2)}, {Key: "lineno", Value: int64(3)},
		{Key: "process", Value: int64(4)}, {Key: "args", Value: nil}, {Key: "exc_info", Value: nil},
		{Key: "msecs", Value: 1.5}, {Key: "created", Value: 1.5}, {Key: "relativeCreated", Value: 2.0},
		{Key: "Name", Value: "a"}, {Key: "nam", Value: "b"}, {Key: "names", Value: "c"}, {Key: "", Value: "d"},
	})
	want := record.Entry{Name: "n", Msg: "m", LevelName: "L", Pathname: "p", Filename: "f", Module: "mo",
		FuncName: "fn", ThreadName: "tn", ProcessName: "pn", TaskName: "tk", ExcText: "x", StackInfo: "s",
		Thread: 1, LevelNo: 2, Lineno: 3, Process: 4, Created: time.Unix(1, 5e8), Relative: 2 * time.Millisecond}
	got := *e
	got.Attrs = nil
	if !got.Created.Equal(want.Created) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fields:\n got %+v\nwant %+v", got, want)
	}
	if len(e.Attrs) != 4 || e.Attrs[0].Key != "Name" || e.Attrs[3].Key != "" {
		t.Errorf("attrs %v, want Name, nam, names and the empty key", e.Attrs)
	}
}

// TestRelativeRoundTrip: relativeCreated travels as a float of
// milliseconds; decoding it must round, not truncate, or a relay chain
// loses a nanosecond per hop (8.319854 ms became 8.319853).
func TestRelativeRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for us := int64(0); us < 20_000_000; us += 7919 {
		in := &record.Entry{Created: at, Relative: time.Duration(us) * time.Microsecond}
		out, err := record.DecodeJSON(record.JSONFormat.AppendEntry(nil, in))
		if err != nil {
			t.Fatal(err)
		}
		if out.Relative != in.Relative {
			t.Fatalf("relativeCreated %v came back as %v", in.Relative, out.Relative)
		}
	}
	in := &record.Entry{Created: at, Relative: 8319854 * time.Nanosecond}
	out, err := record.DecodeJSON(record.JSONFormat.AppendEntry(nil, in))
	if err != nil || out.Relative != in.Relative {
		t.Errorf("relativeCreated 8.319854 ms came back as %v (%v)", out.Relative, err)
	}
}
