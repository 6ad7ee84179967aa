package syslog

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/syslog/syslogtest"
	"github.com/netlog-go/netlog/record"
)

// FuzzParse: any message parses or is refused, never a panic. What parses
// accounts for the text: every byte after the header is in Msg (a BOM
// before an RFC 5424 MSG dropped, invalid UTF-8 replaced), what precedes
// it in a legacy message is header and nothing else (legacyHeader), and
// every field is valid UTF-8. What is refused becomes a Raw entry whose
// Msg is the whole message. Work is bounded: each input must finish within
// the fuzzer's time limit (Parse reads a message in one pass). The seeds are the corpora
// in testdata (the legacy corpus of real devices and libraries too) and
// testdata/fuzz/FuzzParse: what logger(1) and Python's SysLogHandler send.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event`))
	f.Add([]byte("<13>Nov 24 07:15:48 vm app: old style"))
	f.Add([]byte("<14>python form\x00"))
	f.Add([]byte("<999>1 - - - - - -"))
	f.Add([]byte(`<14>1 2026-12-01T02:43:05.1234567+05:30 h a p m [a b="\]\"\\x" c="]"][b] ` + "\ufeffmsg"))
	f.Add([]byte("<14>Dec  1 02:43:05 host app[12]: x\ny"))
	for _, file := range []string{"testdata/malformed.txt", "testdata/rfc5424.txt"} {
		for _, c := range syslogtest.Corpus(f, file) {
			f.Add([]byte(c.Message))
		}
	}
	legacy, err := peer.ReadCorpus("testdata/legacy-corpus.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range legacy {
		f.Add(m)
	}
	var m Message
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := Parse(p)
		// The receiver's way: into a reused Message, from a slice of a
		// longer string.
		me, merr := m.ParseString(string(append(p, "<14>1 - next message"...))[:len(p)])
		if (err == nil) != (merr == nil) || err == nil && !reflect.DeepEqual(e, me) {
			t.Fatalf("%q: Parse %+v, %v; Message.ParseString %+v, %v", p, e, err, me, merr)
		}
		trimmed := bytes.TrimRight(p, "\x00\r\n")
		if err != nil {
			e = Raw(p)
			if e.Syslog.Format != "raw" || e.Msg != syslogtest.Text(string(trimmed)) {
				t.Fatalf("raw entry %q for %q", e.Msg, p)
			}
		} else if !accounted(e, trimmed) {
			t.Fatalf("%s reading of %q loses text: msg %q, fields %+v", e.Syslog.Format, p, e.Msg, *e.Syslog)
		}
		texts := []string{e.Msg, e.Name, e.Syslog.Hostname, e.Syslog.AppName, e.Syslog.ProcID, e.Syslog.MsgID}
		for _, el := range e.Syslog.SD {
			texts = append(texts, el.ID)
			for _, p := range el.Params {
				texts = append(texts, p.Name, p.Value)
			}
		}
		for _, s := range texts {
			if !utf8.ValidString(s) {
				t.Fatalf("%q is not valid UTF-8", s)
			}
		}
	})
}

// accounted reports whether e's Msg is the end of the message p, after the
// header fields (each of which p holds), as Parse promises.
func accounted(e *record.Entry, p []byte) bool {
	s := e.Syslog
	for _, f := range []string{s.Hostname, s.AppName, s.ProcID, s.MsgID} {
		if !bytes.Contains(p, []byte(f)) {
			return false
		}
	}
	rest := syslogtest.Text(string(p))
	if s.Format == "rfc5424" {
		return strings.HasSuffix(rest, e.Msg) && (e.Msg != "" || strings.HasSuffix(rest, "]") || strings.HasSuffix(rest, "-") ||
			strings.HasSuffix(rest, " ") || strings.HasSuffix(rest, " \ufeff")) || strings.HasSuffix(rest, "\ufeff"+e.Msg)
	}
	head, ok := strings.CutSuffix(rest, e.Msg)
	return ok && legacyHeader(e.Syslog, head)
}

// legacyHeader reports whether head, what precedes the text of a legacy
// message, is header: <PRI> (or none, if assumed), a timestamp of at most
// maxStamp bytes (RFC 3164's, or RFC 3339's, each with a fraction of up
// to 9 digits), the hostname, the tag ("NAME[PID]:", each part optional)
// and the one space or TAB after it. Nothing else may be there.
func legacyHeader(s *record.Syslog, head string) bool {
	const maxStamp = max(len(" Mmm dd yyyy hh:mm:ss.nnnnnnnnn: "), len("yyyy-mm-ddThh:mm:ss.nnnnnnnnn+hh:mm "))
	_, n, pri := splitPRI(head)
	if pri == (s.Format == "rfc3164-nopri") {
		return false
	}
	h, ok := head[n:], true
	h = strings.TrimSuffix(strings.TrimSuffix(h, " "), "\t")
	h = strings.TrimSuffix(h, ":")
	tag := s.AppName
	if s.ProcID != "" || s.AppName != "" && strings.HasSuffix(h, "[]") {
		tag += "[" + s.ProcID + "]"
	}
	if h, ok = strings.CutSuffix(h, tag); !ok {
		return false
	}
	if s.Format == "bare" {
		return h == "" && s.Hostname == ""
	}
	if h = strings.TrimSuffix(h, " "); s.Hostname != "" {
		if h, ok = strings.CutSuffix(h, " "+s.Hostname); !ok {
			return false
		}
	}
	return len(h) <= maxStamp
}
