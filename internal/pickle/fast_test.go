package pickle_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/netlog-go/netlog/internal/entrytest"
	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/record"
)

// decoders are the package's decoders, for entrytest.Decoders.Agree.
var decoders = entrytest.Decoders{
	Decode: pickle.Decode, Into: pickle.DecodeInto, Fast: pickle.FastDecode, General: pickle.GeneralDecode,
}

func agree(t *testing.T, p []byte) bool {
	t.Helper()
	return decoders.Agree(t, p)
}

// TestFastPathPython: the records Python sends with scalar extras are
// read by the fast path, at protocols 1 to 5 and as SocketHandler sends
// them, with the general decoder's result; protocol 0 (text memo
// opcodes) and records with containers or big integers fall back.
func TestFastPathPython(t *testing.T) {
	for i, line := range runPython(t, "flat") {
		p, _ := hex.DecodeString(line)
		name := fmt.Sprintf("protocol %d", i-1)
		if i == 0 {
			name = "SocketHandler"
		}
		if fast := agree(t, p); fast != (i != 1) {
			t.Errorf("%s: fast path taken %v, want %v", name, fast, i != 1)
		}
		e, _ := pickle.Decode(p)
		if e.Name != "py.flat" || e.Msg != "user alice logged in from 192.0.2.7" || e.LevelNo != 20 ||
			e.Lineno != 42 || e.Thread == 0 || e.Created.IsZero() || e.ExcText == "" || len(e.Attrs) != 8 {
			t.Errorf("%s: %s", name, entrytest.Canon(e))
		}
	}
	for proto, line := range runPython(t, "records") {
		p, _ := hex.DecodeString(line)
		if agree(t, p) {
			t.Errorf("protocol %d: the fast path took a record with a dict, a list and a big integer", proto)
		}
	}
}

// TestFastPathShapes: what the fast path gives up on, and the general
// decoder reads (or refuses) instead.
func TestFastPathShapes(t *testing.T) {
	for name, c := range map[string]struct {
		p    string
		fast bool
	}{
		"netlog encoder, flat":      {string(pickle.Format.AppendEntry(nil, &record.Entry{Name: "a", Msg: "b", Attrs: []slog.Attr{slog.Int("n", 1)}})), true},
		"SETITEM pairs":             {"}X\x01\x00\x00\x00aK\x01sX\x01\x00\x00\x00bNs.", true},
		"repeated key":              {"}(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00aK\x02u.", false},
		"repeated field":            {"}(X\x03\x00\x00\x00msgK\x01X\x03\x00\x00\x00msgK\x02u.", false},
		"value from the memo":       {"}(X\x01\x00\x00\x00aq\x00X\x01\x00\x00\x00bX\x01\x00\x00\x00ch\x00u.", true},
		"dict from the memo":        {"}q\x00(X\x01\x00\x00\x00ah\x00u.", false},
		"memo index with a gap":     {"}(X\x01\x00\x00\x00aq\x05K\x01u.", false},
		"invalid UTF-8":             {"}(X\x01\x00\x00\x00aX\x01\x00\x00\x00\xffu.", false},
		"nested dict":               {"}(X\x01\x00\x00\x00a}u.", false},
		"integer key":               {"}(K\x01K\x01u.", false},
		"no STOP":                   {"}(X\x01\x00\x00\x00aK\x01u", false},
		"unclosed MARK":             {"}(X\x01\x00\x00\x00aK\x01.", false},
		"odd SETITEMS":              {"}(X\x01\x00\x00\x00au.", false},
		"PUT of a MARK":             {"}(q\x00u.", false},
		"text ints and bools":       {"}(X\x01\x00\x00\x00aL-12L\nX\x01\x00\x00\x00bI01\nX\x01\x00\x00\x00cI+7\nu.", true},
		"text int of 19 digits":     {"}(X\x01\x00\x00\x00aL1234567890123456789L\nu.", false},
		"LONG1 of 9 bytes":          {"}(X\x01\x00\x00\x00a\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x80u.", false},
		"GLOBAL":                    {"cos\nsystem\n.", false},
		"trailing bytes after STOP": {"}.cos\nsystem\n.", true},
	} {
		if fast := agree(t, []byte(c.p)); fast != c.fast {
			t.Errorf("%s: fast path taken %v, want %v", name, fast, c.fast)
		}
	}
}

// TestFastPathBudget: a string referenced from the memo many times, as a
// value or as a key, is charged each time, so a flat dict cannot amplify
// either: the fast path
// stops at the budget, holding what is linear in the payload, as
// TestBounds asks of the general decoder (a 64 KiB string referenced
// 20,000 times would be 1.3 GB of copies), and the general decoder
// refuses the payload as amplified.
func TestFastPathBudget(t *testing.T) {
	big := "X\x00\x00\x01\x00" + strings.Repeat("x", 1<<16) + "q\x00"
	var values, keys strings.Builder
	values.WriteString("}(X\x01\x00\x00\x00s" + big)
	keys.WriteString("}(" + big + "N")
	for i := range 20000 {
		k := fmt.Sprintf("k%d", i)
		values.WriteString("\x8c" + string([]byte{byte(len(k))}) + k + "h\x00")
		keys.WriteString("h\x00N") // the same big key again
	}
	for name, p := range map[string]string{"values": values.String() + "u.", "keys": keys.String() + "u."} {
		t.Run(name, func(t *testing.T) { fastPathBounded(t, []byte(p)) })
	}
}

func fastPathBounded(t *testing.T, p []byte) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	e := pickle.FastDecode(p)
	runtime.ReadMemStats(&after)
	if e != nil {
		t.Fatal("the fast path took an amplified record")
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > uint64(64*len(p)+1<<16) {
		t.Errorf("the fast path allocated %d bytes for a %d-byte payload", grown, len(p))
	}
	if _, err := pickle.Decode(p); err == nil || !strings.Contains(err.Error(), "budget") {
		t.Fatalf("err = %v, want amplified", err)
	}
}

// FuzzFastPath: wherever the fast path takes a payload, the general
// decoder takes it with the same result (agree). Its seeds are
// FuzzDecode's corpus.
func FuzzFastPath(f *testing.F) {
	entries, err := os.ReadDir("testdata/fuzz/FuzzDecode")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		f.Add(seed(f, e.Name()))
	}
	f.Add(pickle.Format.AppendEntry(nil, &record.Entry{Name: "a", Msg: "b", Attrs: []slog.Attr{slog.Int("n", 1)}}))
	f.Fuzz(func(t *testing.T, p []byte) { agree(t, p) })
}

// TestFastPathKnownKeys: the fast path first tries the key, and the
// string value, that the last record it read had at the same place;
// whatever that record was, it takes what it takes without one, with the
// same result: a repeated key (one of them expected, or both) is refused
// as before.
func TestFastPathKnownKeys(t *testing.T) {
	// dict has the keys, with the string values of vals ("" is an int).
	dict := func(vals string, keys ...string) []byte {
		p := "}("
		for i, k := range keys {
			v := fmt.Sprintf("K%c", byte(i))
			if i < len(vals) && vals[i] != ' ' {
				v = "X" + le32(1) + vals[i:i+1] + "q" + string([]byte{byte(i)})
			}
			p += "X" + le32(len(k)) + k + v
		}
		return []byte(p + "u.")
	}
	long := strings.Repeat("k", 40)
	records := map[string][]byte{
		"python": seed(t, "python-sockethandler-flat"),
		"a b":    dict("", "a", "b"), "a a": dict("", "a", "a"), "b b": dict("", "b", "b"), "b a": dict("", "b", "a"),
		"a b, strings": dict("xy", "a", "b"), "a b, other strings": dict("xz", "a", "b"), "a b, a string": dict(" y", "a", "b"),
		"a b c": dict("", "a", "b", "c"), "a": dict("x", "a"), "empty key": dict("", "", "a"),
		"msg a": dict("xy", "msg", "a"), "a msg": dict("yx", "a", "msg"), "msg msg": dict("", "msg", "msg"),
		"long": dict("", long, "a"), "long long": dict("", long, long), "ü": dict("", "ü", "a"),
		"name a": dict("x", "name", "a"), "name_ a": dict("", "name_", "a"),
	}
	for prevName, prev := range records {
		for name, p := range records {
			got, want := pickle.FastDecodeAfter(prev, p), pickle.FastDecodeAfter(nil, p)
			if (got == nil) != (want == nil) || (got != nil && entrytest.Canon(got) != entrytest.Canon(want)) {
				t.Errorf("%s after %s: %v, want %v", name, prevName, got, want)
			}
		}
	}
}

func le32(n int) string { return string([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}) }

// FuzzFastPathAfter: a decoder that has read a record first (and expects
// its keys) reads the next as a fresh one does.
func FuzzFastPathAfter(f *testing.F) {
	python := seed(f, "python-sockethandler-flat")
	f.Add(python, python)
	f.Add(python, bytes.Replace(python, []byte("user"), []byte("usex"), 1))
	f.Add(python, bytes.Replace(python, []byte("user"), []byte("none"), 1))
	f.Add(pickle.Format.AppendEntry(nil, entrytest.Typical()), python)
	f.Fuzz(func(t *testing.T, prev, p []byte) {
		got, want := pickle.FastDecodeAfter(prev, p), pickle.FastDecodeAfter(nil, p)
		if (got == nil) != (want == nil) || (got != nil && entrytest.Canon(got) != entrytest.Canon(want)) {
			t.Fatalf("after %q: %v, want %v", prev, got, want)
		}
	})
}
