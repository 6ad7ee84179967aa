package receive_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/syslog/syslogtest"
)

// TestSyslogTextAgainstRsyslog sends each message of the well-formed RFC
// 5424 corpus and of the malformed one, as the same UDP datagram, to a real
// rsyslog and to netlog, and compares their readings: netlog's msg holds
// at least rsyslog's (no text lost); on well-formed RFC 5424, hostname,
// app-name, procid, msgid and msg are equal. Field-by-field agreement on
// legacy syslog is issue 16's.
func TestSyslogTextAgainstRsyslog(t *testing.T) {
	out := filepath.Join(t.TempDir(), "fields.json")
	r := peer.StartRsyslog(t, "", "", "",
		`global(parser.escapeControlCharactersOnReceive="off")`,
		`template(name="jsonfields" type="string" string="[\"%hostname:::json%\",\"%app-name:::json%\",\"%procid:::json%\",\"%msgid:::json%\",\"%msg:::json%\"]\n")`,
		fmt.Sprintf(`action(type="omfile" file=%q template="jsonfields" flushInterval="0" asyncWriting="off")`, out))
	cs := startCorpusServer(t)
	toRsyslog, toNetlog := dial(t, "udp", r.UDP), dial(t, "udp", cs.udp)
	seen := countLines(out) // the probe's
	for _, file := range []string{"rfc5424.txt", "malformed.txt"} {
		lost := 0
		cases := syslogtest.Corpus(t, "../internal/syslog/testdata/"+file)
		for _, c := range cases {
			toRsyslog.Write([]byte(c.Message))
			toNetlog.Write([]byte(c.Message))
			rs := rsyslogFields(t, out, seen)
			seen++
			p := cs.printed(t)
			msg := p.Msg
			rsMsg := strings.TrimSpace(strings.TrimPrefix(rs[4], "\ufeff"))
			switch tagged := tag3164(p) + msg; {
			case strings.Contains(msg, rsMsg):
			case strings.Contains(tagged, rsMsg): // a different reading, no text lost
				t.Logf("%s: %s: rsyslog read msg %q, netlog the tag and msg %q (issue 16)", file, c.Source, rsMsg, tagged)
			default:
				lost++
				t.Errorf("%s: %s: rsyslog read msg %q, netlog %q", file, c.Source, rsMsg, msg)
			}
			if file == "rfc5424.txt" {
				got := [4]string{p.Hostname, p.AppName, p.ProcID, p.MsgID}
				for i := range rs[:4] {
					rs[i] = strings.TrimPrefix(rs[i], "-") // rsyslog's NILVALUE
				}
				if want := [4]string(rs[:4]); got != want {
					t.Errorf("%s: %s: netlog read %q, rsyslog %q", file, c.Source, got, want)
				}
			}
		}
		t.Logf("%s: %d of %d messages have less text in netlog than in rsyslog", file, lost, len(cases))
	}
}

func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}

// rsyslogFields waits for line n+1 of rsyslog's output and decodes it.
// Polling: a file gives no signal.
func rsyslogFields(t *testing.T, path string, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if lines := strings.SplitAfter(string(b), "\n"); len(lines) > n+1 || (len(lines) == n+1 && strings.HasSuffix(lines[n], "\n")) {
			var f []string
			if err := json.Unmarshal([]byte(lines[n]), &f); err != nil || len(f) != 5 {
				t.Fatalf("rsyslog wrote %q: %v", lines[n], err)
			}
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslog wrote no line %d within 30 s", n+1)
		}
	}
}

// tag3164 is the RFC 3164 tag "APP[PROCID]: " of a printed line, if it has
// an app-name.
func tag3164(p printedLine) string {
	switch {
	case p.AppName == "":
		return ""
	case p.ProcID == "":
		return p.AppName + ": "
	}
	return p.AppName + "[" + p.ProcID + "]: "
}
