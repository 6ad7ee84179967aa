package receive

import (
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/record"
)

// TestStamp: the cached per-second formatting of a time is what Go's
// layout makes of it, for times in one second and across seconds, years
// and before 1970; a time outside the years 0000–9999, which Go's layout
// writes with more digits or a sign, is "-".
func TestStamp(t *testing.T) {
	var st stamp
	for _, tm := range []time.Time{time.Unix(270000000000, 5), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC)} {
		if got := string(st.append(nil, tm)); got != "-" {
			t.Errorf("%v: %q, want -", tm, got)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 12, 1, 8, 0, 0, 0, time.FixedZone("x", 3600))
	for i := range 10000 {
		var tm time.Time
		switch i % 3 {
		case 0: // the same few seconds, any nanosecond
			tm = base.Add(time.Duration(rng.Int64N(3e9)))
		case 1: // anywhere from year 1 to 9999
			tm = time.Unix(rng.Int64N(315e9)-62e9, rng.Int64N(1e9))
		default: // near the epoch, both sides
			tm = time.Unix(0, rng.Int64N(4e9)-2e9)
		}
		want := tm.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		if got := string(st.append(nil, tm)); got != want {
			t.Fatalf("%v: %q, want %q", tm, got, want)
		}
	}
}

// TestTextValueBare: appendTextValue quotes exactly what the rune-by-rune
// rule of Printer's doc comment says, and a number, bool or float attribute
// is written as its Value.String.
func TestTextValueBare(t *testing.T) {
	rule := func(s string) string {
		if s == "" {
			return `""`
		}
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == ' ' || r == '"' || r == '=' || !unicode.IsPrint(r) || unsafeRune(r) || (r == utf8.RuneError && size == 1) {
				return strconv.Quote(s)
			}
			i += size
		}
		return s
	}
	for _, s := range []string{"", "a", "a b", `"`, "x=y", "\x7f", "\x00", "é", "aé b", "\xff", "\ufffd", "a\u2028", "a\u202e", "\u00a0", "ok\u0085", "a\tb", "abc~!"} {
		if got, want := string(appendTextValue(nil, s)), rule(s); got != want {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
	for _, v := range []slog.Value{slog.Int64Value(-42), slog.Uint64Value(math.MaxUint64), slog.Float64Value(1.5e300),
		slog.Float64Value(math.Inf(-1)), slog.Float64Value(math.NaN()), slog.BoolValue(true), slog.DurationValue(time.Second), slog.AnyValue(nil), slog.AnyValue([]int{1, 2})} {
		got := string(appendTextAttr(nil, "", &slog.Attr{Key: "k", Value: v}))
		if want := " k=" + rule(v.String()); got != want {
			t.Errorf("%v: %q, want %q", v, got, want)
		}
	}
}

// BenchmarkAppendText is what a Printer does per record in the text
// form: syslog is the bench suite's RFC 5424 message
// (bench/recvinput.go), python the pickle of a record as Python's
// SocketHandler sends it (BenchmarkServeStream's), each with a peer as
// a server sets it.
func BenchmarkAppendText(b *testing.B) {
	sl, err := syslog.Parse([]byte(`<165>1 2026-12-01T04:30:00.000001Z host1.example.com benchapp 4242 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1001"] user alice logged in from 192.0.2.1 path=/api/v1/login latency=1.5ms ok=true`))
	if err != nil {
		b.Fatal(err)
	}
	py, err := pickle.Decode(pickleSeed(b, "python-sockethandler-flat"))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		e    *record.Entry
	}{{"syslog", sl}, {"python", py}} {
		c.e.Peer = "127.0.0.1:50122"
		b.Run(c.name, func(b *testing.B) {
			var st textState
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				buf = appendText(buf[:0], c.e, &st)
			}
		})
	}
}

// pickleSeed reads the payload of a file in the pickle decoder's seed
// corpus.
func pickleSeed(tb testing.TB, name string) []byte {
	tb.Helper()
	f, err := os.ReadFile("../internal/pickle/testdata/fuzz/FuzzDecode/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	_, line, _ := strings.Cut(strings.TrimSpace(string(f)), "\n") // "go test fuzz v1", then []byte("...")
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "[]byte("), ")"))
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(s)
}

// TestTextStateReused: a record prints the same through a textState
// that printed other records before it (the bare caches of the peer,
// pathname and syslog hostname, the cached second) as through a fresh
// one, whatever the strings before: equal, bare, quoted or empty. Each
// record's strings are slices of one buffer, overwritten by the next
// record's, as a Transient Sink's are (transientString): a cache that
// kept the string, not a copy, would find the next one equal to it.
func TestTextStateReused(t *testing.T) {
	strs := []string{"", "a", "a b", "host1.example.com", "é", "x=y", "\x00", `"`, "127.0.0.1:50122"}
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 0, 256) // never grows: each string stays where it was put
	pick := func() string {
		start := len(buf)
		buf = append(buf, strs[rng.IntN(len(strs))]...)
		return transientString(buf[start:])
	}
	var st textState
	for range 5000 {
		buf = buf[:0]
		e := &record.Entry{
			Name: "n", Msg: "m", LevelName: "INFO", Lineno: rng.IntN(3),
			Created: time.Unix(rng.Int64N(3), rng.Int64N(1e9)),
			Peer:    pick(), Pathname: pick(),
		}
		if rng.IntN(2) == 0 {
			e.Syslog = &record.Syslog{Format: "rfc5424", Hostname: pick(), ProcID: pick(), MsgID: pick()}
		}
		got, want := appendText(nil, e, &st), appendText(nil, e, &textState{})
		if string(got) != string(want) {
			t.Fatalf("after other records:\n%s\nfresh:\n%s", got, want)
		}
	}
}
