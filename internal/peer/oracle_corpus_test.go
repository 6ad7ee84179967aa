package peer

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the committed rsyslog readings of the corpus and captures")

// testdata is where the corpus and the captures live.
const testdata = "../syslog/testdata"

// TestOracleCorpus feeds the legacy corpus (directly and through every
// relay) and every captured sender stream to the oracle and compares
// rsyslog's readings with the committed *.rsyslog.txt files, timestamps
// masked (a legacy timestamp's year, and the time of reception, change).
// With -update it rewrites the files instead.
func TestOracleCorpus(t *testing.T) {
	o := StartOracle(t)
	corpus, err := ReadCorpus(filepath.Join(testdata, "legacy-corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, filepath.Join(testdata, "legacy-corpus.rsyslog.txt"), corpus, o.Read(t, "udp", corpus...))
	caps, _ := filepath.Glob(filepath.Join(testdata, "senders", "*.dgrams"))
	streams, _ := filepath.Glob(filepath.Join(testdata, "senders", "*.stream"))
	if len(caps)+len(streams) == 0 {
		t.Fatal("no sender captures under testdata/senders")
	}
	for _, f := range caps {
		dgrams, err := ReadDatagrams(f)
		if err != nil {
			t.Fatal(err)
		}
		check(t, f+".rsyslog.txt", dgrams, o.Read(t, "udp", dgrams...))
	}
	for _, f := range streams {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		check(t, f+".rsyslog.txt", nil, o.Read(t, "tcp", b))
	}
	for _, kind := range RelayKinds {
		dest := map[string]string{"udp": o.UDP, "tcp": o.TCP, "relp": o.RELP}[kind.Network()]
		r := StartRelay(t, kind, dest)
		check(t, filepath.Join(testdata, "legacy-corpus."+string(kind)+".rsyslog.txt"), corpus, o.Through(t, "udp", r.UDP, corpus...))
	}
}

// check compares the readings, formatted, with the file (or writes it).
func check(t *testing.T, file string, sent [][]byte, got []Reading) {
	t.Helper()
	text := FormatReadings(sent, got)
	if *update {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (write it with -update)", err)
	}
	w, g := strings.Split(maskTimes(string(want)), "\n"), strings.Split(maskTimes(text), "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		if i >= len(w) || i >= len(g) || w[i] != g[i] {
			t.Errorf("%s: rsyslog's reading differs from the committed one at line %d (of %d now, %d committed):\nnow:       %q\ncommitted: %q",
				filepath.Base(file), i+1, len(g), len(w), at(g, i), at(w, i))
			return
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(end)"
}

var times = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)|[A-Z][a-z][a-z] [ \d]\d \d\d:\d\d:\d\d`)

func maskTimes(s string) string { return times.ReplaceAllString(s, "TIME") }

// FormatReadings renders rsyslog's readings one block each: what was sent
// (when each datagram gave one reading), what rsyslog received, and every
// field, Go-quoted. A timestamp equal to the time of reception is shown
// as "(reception)": the message carried none.
func FormatReadings(sent [][]byte, got []Reading) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# rsyslog's reading (internal/peer oracle): %d messages\n", len(got))
	for i, r := range got {
		if len(sent) == len(got) {
			fmt.Fprintf(&b, "sent: %q\n", sent[i])
		}
		ts := r.Timestamp
		if ts == r.Received {
			ts = "(reception)"
		}
		fmt.Fprintf(&b, "raw:  %q\n      pri=%s time=%s host=%q app=%q procid=%q msgid=%q tag=%q sd=%q\n      msg=%q\n",
			r.Raw, r.Pri, ts, r.Hostname, r.AppName, r.ProcID, r.MsgID, r.Tag, r.SD, r.Msg)
	}
	return b.String()
}

// ReadCorpus reads a corpus file: one message a line, '#' comments and
// empty lines skipped, escapes \\ \n \r \t \0 \xHH.
func ReadCorpus(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for n, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		m, err := unescape(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n+1, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func unescape(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if i++; i == len(s) {
			return nil, fmt.Errorf("a lone backslash at the end")
		}
		switch s[i] {
		case '\\':
			out = append(out, '\\')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '0':
			out = append(out, 0)
		case 'x':
			if i+2 >= len(s) {
				return nil, fmt.Errorf("\\x needs two hex digits")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("\\x%s: %w", s[i+1:i+3], err)
			}
			out = append(out, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return out, nil
}

// ReadDatagrams reads a .dgrams capture: each datagram as
// "<decimal length> <bytes>\n".
func ReadDatagrams(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(b) > 0 {
		sp := bytes.IndexByte(b, ' ')
		n, err := strconv.Atoi(string(b[:max(sp, 0)]))
		if sp < 0 || err != nil || n < 0 || sp+1+n >= len(b) || b[sp+1+n] != '\n' {
			return nil, fmt.Errorf("%s: datagram %d is not \"<length> <bytes>\\n\"", path, len(out)+1)
		}
		out = append(out, b[sp+1:sp+1+n])
		b = b[sp+2+n:]
	}
	return out, nil
}
