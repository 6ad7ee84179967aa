package pickle_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	ogorek "github.com/kisielk/og-rek"

	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/record"
)

func sampleEntry() *record.Entry {
	return &record.Entry{
		Name: "app", Msg: "héllo ✓", LevelNo: 30, LevelName: "WARNING",
		Created:  time.Date(2026, 11, 24, 5, 0, 0, 123456000, time.UTC),
		Relative: 12500 * time.Microsecond, Pathname: "/src/app/main.go", Filename: "main.go", Module: "main",
		Lineno: 42, FuncName: "main.run", Process: 1234, ProcessName: "app",
		ExcText: "trace\nback",
		Attrs: []slog.Attr{
			slog.String("s", "ünïcode"),
			slog.Int("small", 7),
			slog.Int("mid", 40000),
			slog.Int("neg", -5),
			slog.Int64("i64", math.MinInt64),
			slog.Uint64("u64", math.MaxUint64),
			slog.Float64("f", 0.25),
			slog.Bool("t", true),
			slog.Bool("f0", false),
			slog.Any("nil", nil),
			slog.Duration("d", 1500*time.Millisecond),
			slog.String("bad", "a\xffb"),
			slog.String("long", strings.Repeat("x", 300)),
			slog.Group("g", slog.Int("a", 1), slog.Group("h", slog.String("b", "c"))),
		},
	}
}

// TestEncoderOgRek decodes the encoder's output with an independent
// decoder, og-rek, and checks every value.
func TestEncoderOgRek(t *testing.T) {
	p := pickle.Format.AppendEntry(nil, sampleEntry())
	v, err := ogorek.NewDecoder(bytes.NewReader(p)).Decode()
	if err != nil {
		t.Fatalf("og-rek cannot decode our pickle: %v", err)
	}
	d, ok := v.(map[any]any)
	if !ok {
		t.Fatalf("og-rek decoded %T, want a dict", v)
	}
	u64, _ := new(big.Int).SetString("18446744073709551615", 10)
	want := map[string]any{
		"name": "app", "msg": "héllo ✓", "levelno": int64(30), "levelname": "WARNING",
		"pathname": "/src/app/main.go", "filename": "main.go", "module": "main",
		"lineno": int64(42), "funcName": "main.run", "process": int64(1234),
		"processName": "app", "exc_text": "trace\nback", "relativeCreated": 12.5,
		"created": 1795496400.123456, "msecs": 123.456,
		"s": "ünïcode", "small": int64(7), "mid": int64(40000), "neg": int64(-5),
		"f": 0.25, "t": true, "f0": false,
		"d": int64(1500 * time.Millisecond), "bad": "a\ufffdb", "long": strings.Repeat("x", 300),
	}
	for k, w := range want {
		if got := d[k]; got != w {
			t.Errorf("%s = %#v, want %#v", k, got, w)
		}
	}
	if got := fmt.Sprint(d["i64"]); got != "-9223372036854775808" {
		t.Errorf("i64 = %#v, want MinInt64", d["i64"])
	}
	if got, ok := d["u64"].(*big.Int); !ok || got.Cmp(u64) != 0 {
		t.Errorf("u64 = %#v, want %v", d["u64"], u64)
	}
	for _, k := range []string{"args", "exc_info", "thread", "threadName", "nil"} {
		if got := d[k]; got != (ogorek.None{}) {
			t.Errorf("%s = %#v, want None", k, got)
		}
	}
	g, _ := d["g"].(map[any]any)
	h, _ := g["h"].(map[any]any)
	if g["a"] != int64(1) || h["b"] != "c" {
		t.Errorf("group g = %#v, want {a: 1, h: {b: c}}", d["g"])
	}
	if _, ok := d["message"]; ok {
		t.Error("the dict has a message key; Python's makePickle removes it")
	}
}

// TestRoundTrip decodes the encoder's output with Decode.
func TestRoundTrip(t *testing.T) {
	in := sampleEntry()
	out, err := pickle.Decode(pickle.Format.AppendEntry(nil, in))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Created.Equal(in.Created) {
		t.Errorf("created = %v, want %v", out.Created, in.Created)
	}
	got, want := *out, *in
	got.Attrs, want.Attrs, got.Created, want.Created = nil, nil, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("standard fields:\n got %+v\nwant %+v", got, want)
	}
	values := map[string]string{}
	for _, a := range out.Attrs {
		values[a.Key] = a.Value.String()
	}
	for k, w := range map[string]string{
		"s": "ünïcode", "i64": "-9223372036854775808", "u64": "18446744073709551615",
		"f": "0.25", "t": "true", "nil": "<nil>", "bad": "a\ufffdb", "g": "[a=1 h=[b=c]]",
	} {
		if values[k] != w {
			t.Errorf("attr %s = %q, want %q", k, values[k], w)
		}
	}
}

func runPython(t *testing.T, args ...string) []string {
	t.Helper()
	py := peer.Path(t, "python3")
	out, err := exec.Command(py, append([]string{"testdata/pickles.py"}, args...)...).Output()
	if err != nil {
		t.Fatalf("pickles.py %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// TestDecodePython decodes the record dict that Python pickles at every
// protocol it has, field by field.
func TestDecodePython(t *testing.T) {
	for proto, line := range runPython(t, "records") {
		p, _ := hex.DecodeString(line)
		e, err := pickle.Decode(p)
		if err != nil {
			t.Fatalf("protocol %d: %v", proto, err)
		}
		if e.Name != "py.app" || e.Msg != "héllo wörld ✓" || e.LevelNo != 30 ||
			e.LevelName != "WARNING" || e.Pathname != "/srv/app.py" || e.Lineno != 42 ||
			e.FuncName != "handler" || e.Module != "app" || e.Process == 0 ||
			e.ExcText != "Traceback (most recent call last):\n  boom" || e.Created.IsZero() || e.Thread == 0 {
			t.Errorf("protocol %d: standard fields %+v", proto, *e)
		}
		attrs := map[string]string{}
		for _, a := range e.Attrs {
			attrs[a.Key] = a.Value.String()
		}
		for k, w := range map[string]string{
			"user": "ü", "count": "1099511627776", "big": "1208925819614629174706176",
			"neg": "-7", "ratio": "0.25", "flag": "true", "none": "<nil>",
			"group": "[a=1 nested=[b=c]]", "items": "[1 two 3]",
		} {
			if attrs[k] != w {
				t.Errorf("protocol %d: attr %s = %q, want %q", proto, k, attrs[k], w)
			}
		}
	}
}

// TestRefusesCode proves the payloads are live — Python's pickle.loads of
// one creates its file — and that Decode refuses every one, at every
// protocol, without creating anything.
func TestRefusesCode(t *testing.T) {
	dir := t.TempDir()
	proof, target := filepath.Join(dir, "python-ran-it"), filepath.Join(dir, "netlog-ran-it")
	live, _ := hex.DecodeString(runPython(t, "evil", proof)[0])
	py := peer.Path(t, "python3")
	cmd := exec.Command(py, "-c", "import pickle,sys; pickle.loads(bytes.fromhex(sys.argv[1]))", hex.EncodeToString(live))
	if err := cmd.Run(); err != nil {
		t.Fatalf("python could not load the payload: %v", err)
	}
	if _, err := os.Stat(proof); err != nil {
		t.Fatalf("the payload did not run in Python, so it proves nothing: %v", err)
	}
	for proto, line := range runPython(t, "evil", target) {
		p, _ := hex.DecodeString(line)
		_, err := pickle.Decode(p)
		if !errors.Is(err, pickle.ErrRefused) {
			t.Errorf("protocol %d: err = %v, want ErrRefused", proto, err)
		}
		if proto == 0 && !strings.Contains(err.Error(), `"posix.system"`) {
			t.Errorf("protocol 0: error %q does not name the global", err)
		}
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("%s exists: a payload ran", target)
	}
}

// TestRefusedOpcodes covers each opcode that imports, calls or builds.
func TestRefusedOpcodes(t *testing.T) {
	for name, p := range map[string]string{
		"GLOBAL":       "cos\nsystem\n.",
		"INST":         "(ios\nsystem\n.",
		"STACK_GLOBAL": "\x80\x04\x8c\x02os\x8c\x06system\x93.",
		"REDUCE":       "N)R.",
		"BUILD":        "}}b.",
		"OBJ":          "(N)o.",
		"NEWOBJ":       "N)\x81.",
		"NEWOBJ_EX":    "N)}\x92.",
		"EXT1":         "\x82\x01.",
		"PERSID":       "P1\n.",
		"BINPERSID":    "NQ.",
		"NEXT_BUFFER":  "\x97.",
	} {
		if _, err := pickle.Unpickle([]byte(p)); !errors.Is(err, pickle.ErrRefused) {
			t.Errorf("%s: err = %v, want ErrRefused", name, err)
		}
	}
}

// TestBounds feeds payloads built to exhaust memory or time.
func TestBounds(t *testing.T) {
	nested := strings.Repeat("]", 200) + strings.Repeat("a", 199) + "."
	memoBomb := "](" + strings.Repeat("K\x01", 1000) + "eq\x000](" + strings.Repeat("h\x00", 20000) + "e."
	cases := map[string]struct {
		p    string
		want string
	}{
		"BINUNICODE 4 GiB":       {"X\xff\xff\xff\xffabc.", "4294967295 bytes announced"},
		"BINUNICODE8 huge":       {"\x8d\xff\xff\xff\xff\xff\xff\xff\x7fabc.", "bytes announced"},
		"BINBYTES8 huge":         {"\x8e\x00\x00\x00\x00\x00\x00\x00\x80.", "bytes announced"},
		"LONG4 over limit":       {"\x8b\x00\x00\x10\x00" + strings.Repeat("\x01", 1<<20) + ".", "over the limit"},
		"LONG text over limit":   {"L" + strings.Repeat("9", 100000) + "L\n.", "over the limit"},
		"nesting":                {nested, "nesting deeper"},
		"self reference":         {"]q\x00h\x00a.", "nesting deeper"},
		"memo multiplication":    {memoBomb, "expands beyond its budget"},
		"GET unknown":            {"h\x05.", "memo key 5 not found"},
		"STOP on empty stack":    {".", "unbalanced"},
		"no STOP":                {"}", "truncated"},
		"APPEND to a dict":       {"}Na.", "APPEND on a dict"},
		"pop below a mark":       {"N(0.", "stack underflow"},
		"SETITEM below a mark":   {"}N(Ns.", "stack underflow"},
		"unknown opcode":         {"\xff.", "unknown opcode"},
		"protocol 6":             {"\x80\x06}.", "unsupported protocol"},
		"odd DICT":               {"(Nd.", "odd number"},
		"text int not a number":  {"Iabc\n.", "bad integer"},
		"unterminated text line": {"I12", "no newline"},
	}
	for name, c := range cases {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := pickle.Unpickle([]byte(c.p))
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, c.want)
		}
		// Linear in the payload, as Decode's doc comment promises.
		if grown := after.TotalAlloc - before.TotalAlloc; grown > uint64(64*len(c.p)+1<<16) {
			t.Errorf("%s: allocated %d bytes for a %d-byte payload", name, grown, len(c.p))
		}
	}
}

func TestNotARecord(t *testing.T) {
	if _, err := pickle.Decode([]byte("]K\x01a.")); !errors.Is(err, record.ErrNotRecord) {
		t.Errorf("a list: err = %v, want ErrNotRecord", err)
	}
}

// TestProtocol0Text covers the text opcodes Python 2 and protocol 0 use.
func TestProtocol0Text(t *testing.T) {
	p := "(dp0\nVname\np1\nVcaf\xe9 \\u2713\np2\nsS'msg'\np3\nS'it\\'s'\np4\nsVlevelno\np5\nI20\nsVflag\nI01\nsVf\nF1.5\nsVbig\nL123456789012345678901234567890L\ns."
	e, err := pickle.Decode([]byte(p))
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "café ✓" || e.Msg != "it's" || e.LevelNo != 20 {
		t.Errorf("got %+v", *e)
	}
}
