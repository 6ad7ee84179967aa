package receive

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/netlog-go/netlog/internal/batch"
	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/record"
)

// pickleDict builds a protocol 2 dict pickle of kvs: each value is a
// string or, for a group, a []any of more key/value pairs.
func pickleDict(kvs ...any) []byte {
	return append(appendDict([]byte("\x80\x02"), kvs), '.')
}

func appendDict(p []byte, kvs []any) []byte {
	p = append(p, '}', '(')
	for i := 0; i < len(kvs); i += 2 {
		p = appendUnicode(p, kvs[i].(string))
		switch v := kvs[i+1].(type) {
		case string:
			p = appendUnicode(p, v)
		case []any:
			p = appendDict(p, v)
		}
	}
	return append(p, 'u')
}

func appendUnicode(p []byte, s string) []byte {
	return append(binary.LittleEndian.AppendUint32(append(p, 'X'), uint32(len(s))), s...)
}

// forgery is what a sender writes to start a line of its own.
const forgery = "2026-01-01T00:00:00.000000Z CRITICAL root: forged"

// forgeAttempts are payloads that try to print a line that parses as a
// record of its own, or to reach the terminal with a control sequence.
var forgeAttempts = []struct {
	name    string
	payload []byte
	syslog  bool
}{
	{"newline in name", pickleDict("msg", "m", "name", "app\n"+forgery), false},
	{"newline in levelname", pickleDict("msg", "m", "levelname", "INFO\n"+forgery), false},
	{"newline in attribute key", pickleDict("msg", "m", "k\n"+forgery+" x", "v"), false},
	{"newline in group key", pickleDict("msg", "m", "g\n"+forgery, []any{"k", "v"}), false},
	{"newline in value", pickleDict("msg", "m", "k", "v\n"+forgery), false},
	{"newline in msg", pickleDict("msg", "m\n"+forgery), false},
	{"newline in exc_text", pickleDict("msg", "m", "exc_text", "tb\n"+forgery), false},
	{"CR in name", pickleDict("msg", "m", "name", "app\r"+forgery), false},
	{"CR LF in msg", pickleDict("msg", "m\r\n"+forgery), false},
	{"bare CR at line start", pickleDict("msg", "\r"+forgery), false},
	{"NUL in key", pickleDict("msg", "m", "k\x00", "v\x00"), false},
	{"ESC[2J in msg", pickleDict("msg", "\x1b[2J\x1b[H"+forgery), false},
	{"OSC 8 hyperlink", pickleDict("msg", "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\", "name", "\x1b]0;title\x07"), false},
	{"C1 CSI in levelname", pickleDict("msg", "m", "levelname", "\u009b2J"), false},
	{"U+2028 in key", pickleDict("msg", "m", "k\u2028"+forgery, "v\u2029"), false},
	{"invalid UTF-8 in bytes key", []byte("\x80\x02}(X\x03\x00\x00\x00msgX\x01\x00\x00\x00mC\x02\xff\nC\x02\x1b\nu."), false},
	{"syslog newline in msg", []byte("<13>1 2026-01-01T00:00:00Z host app 1 - - m\n" + forgery), true},
	{"syslog ESC in msg", []byte("<13>1 2026-01-01T00:00:00Z host app 1 - - \x1b[2J\x9b2J"), true},
	{"syslog newline in SD name", []byte("<13>1 2026-01-01T00:00:00Z host app 1 - [id a\n" + forgery + "=\"v\"] m"), true},
	{"syslog newline in SD value", []byte("<13>1 2026-01-01T00:00:00Z host app 1 - [id a=\"v\n" + forgery + "\"] m"), true},
	{"syslog CR in hostname", []byte("<13>1 2026-01-01T00:00:00Z ho\rst app 1 - - m"), true},
	{"syslog newline in 3164 tag", []byte("<13>Jan  1 00:00:00 host ta\ng: " + forgery), true},
	{"syslog bare NUL and CR", []byte("<13>\x00\r" + forgery), true},
}

var recordLine = regexp.MustCompile(`^(-|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) `)

// checkText asserts that out is records records in the text form: every
// line either starts with a TAB or is a record line, one per record, and
// no control other than those line breaks and TABs is in it.
func checkText(t testing.TB, out []byte, records int) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Fatalf("output is not valid UTF-8: %q", out)
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		t.Fatalf("output does not end with a line feed: %q", out)
	}
	starts := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		body, continued := strings.CutPrefix(line, "\t")
		if !continued {
			if !recordLine.MatchString(line) {
				t.Fatalf("a line that is neither a record nor a continuation: %q", line)
			}
			starts++
		}
		for _, r := range body {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("raw control %U in line %q", r, line)
			}
		}
	}
	if len(out) > 0 && starts != records {
		t.Fatalf("%d record lines for %d records in %q", starts, records, out)
	}
}

// checkJSON asserts that out is records JSON objects, one per line.
func checkJSON(t testing.TB, out []byte, records int) {
	t.Helper()
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(out) == 0 {
		lines = nil
	}
	if len(lines) != records {
		t.Fatalf("%d lines for %d records: %q", len(lines), records, out)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
	}
}

// TestForgedLines prints each forging attempt, from a pickle or a syslog
// message, in both forms.
func TestForgedLines(t *testing.T) {
	for _, c := range forgeAttempts {
		t.Run(c.name, func(t *testing.T) {
			var e *record.Entry
			var err error
			if c.syslog {
				e, err = syslogMessages.decode(&Server{}, c.payload)
			} else {
				e, err = pickle.Decode(c.payload)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, asJSON := range []bool{false, true} {
				var out bytes.Buffer
				p := &Printer{W: &out, JSON: asJSON}
				if err := p.Write(e); err != nil {
					t.Fatal(err)
				}
				if asJSON {
					checkJSON(t, out.Bytes(), 1)
				} else {
					checkText(t, out.Bytes(), 1)
				}
				if c.name == "newline in msg" && !asJSON && !strings.Contains(out.String(), "\n\t"+forgery) {
					t.Errorf("a multi-line message is not kept as continuation lines: %q", out.String())
				}
			}
		})
	}
}

// TestPrinterBufferShrinks: after a 1 MB record the Printer does not keep
// a 1 MB buffer (it keeps at most two batches' worth).
func TestPrinterBufferShrinks(t *testing.T) {
	var out bytes.Buffer
	p := &Printer{W: &out}
	for _, msg := range []string{strings.Repeat("x", 1<<20), "small"} {
		if err := p.Write(&record.Entry{Msg: msg}); err != nil {
			t.Fatal(err)
		}
		if h := p.batch().Held(); h > 2*batch.DefaultSize {
			t.Errorf("after a %d-byte message the Printer keeps %d bytes", len(msg), h)
		}
	}
}
