package peer

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
