package syslog

import (
	"strings"
	"testing"

	"github.com/netlog-go/netlog/internal/syslog/syslogtest"
)

// TestMalformedCorpus: each message of testdata/malformed.txt is read in
// the format its line names, and its text survives: in Msg if it parsed,
// the whole message in Msg if it is raw.
func TestMalformedCorpus(t *testing.T) {
	for _, c := range syslogtest.Corpus(t, "testdata/malformed.txt") {
		e, err := Parse([]byte(c.Message))
		format := "raw"
		if err != nil {
			e = Raw([]byte(c.Message))
		} else {
			format = e.Syslog.Format
		}
		if format != c.Format || !strings.Contains(e.Msg, c.Text) {
			t.Errorf("%s: %q\n\tread as %s (%v), msg %q; want %s keeping %q", c.Source, c.Message, format, err, e.Msg, c.Format, c.Text)
		}
		if format == "raw" && e.Msg != text(strings.TrimRight(c.Message, "\x00\r\n")) {
			t.Errorf("%s: raw msg %q is not the whole message", c.Source, e.Msg)
		}
	}
}
