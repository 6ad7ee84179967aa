package syslog

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/netlog-go/netlog/internal/syslog/syslogtest"
	"github.com/netlog-go/netlog/record"
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
		if format == "raw" && e.Msg != syslogtest.Text(strings.TrimRight(c.Message, "\x00\r\n")) {
			t.Errorf("%s: raw msg %q is not the whole message", c.Source, e.Msg)
		}
	}
}

// TestWellFormedAgreesWithGoSyslog: on well-formed RFC 5424, Parse reads
// every field as go-syslog's strict parser does.
func TestWellFormedAgreesWithGoSyslog(t *testing.T) {
	for _, c := range syslogtest.Corpus(t, "testdata/rfc5424.txt") {
		e, err := Parse([]byte(c.Message))
		if err != nil {
			t.Errorf("%s: %v", c.Source, err)
			continue
		}
		m, err := rfc5424.NewParser().Parse([]byte(c.Message))
		if err != nil {
			t.Errorf("%s: go-syslog: %v", c.Source, err)
			continue
		}
		want := fromGoSyslog(m.(*rfc5424.SyslogMessage))
		s := e.Syslog
		var ns int64
		if !e.Created.IsZero() {
			ns = e.Created.UnixNano()
		}
		got := fmt.Sprint(s.Facility, s.Severity, ns, s.Hostname, s.AppName, s.ProcID, s.MsgID, s.SD)
		if got != want || e.Msg != c.Text {
			t.Errorf("%s: got %s msg %q\n\tgo-syslog: %s, corpus msg %q", c.Source, got, e.Msg, want, c.Text)
		}
	}
}

func fromGoSyslog(m *rfc5424.SyslogMessage) string {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	var sd []record.SDElement
	if m.StructuredData != nil {
		for id, params := range *m.StructuredData {
			el := record.SDElement{ID: id}
			for k, v := range params {
				el.Params = append(el.Params, record.SDParam{Name: k, Value: v})
			}
			slices.SortFunc(el.Params, func(a, b record.SDParam) int { return strings.Compare(a.Name, b.Name) })
			sd = append(sd, el)
		}
		slices.SortFunc(sd, func(a, b record.SDElement) int { return strings.Compare(a.ID, b.ID) })
	}
	var ns int64
	if m.Timestamp != nil {
		ns = m.Timestamp.UnixNano()
	}
	return fmt.Sprint(int(*m.Facility), int(*m.Severity), ns, str(m.Hostname), str(m.Appname), str(m.ProcID), str(m.MsgID), sd)
}

// TestMessageParse: parsing every corpus message into one reused Message
// gives what Parse gives, and the Entry of one message is not disturbed
// by the parse before it.
func TestMessageParse(t *testing.T) {
	var cs []syslogtest.Case
	for _, f := range []string{"testdata/malformed.txt", "testdata/rfc5424.txt"} {
		cs = append(cs, syslogtest.Corpus(t, f)...)
	}
	var m Message
	for _, c := range cs {
		want, werr := Parse([]byte(c.Message))
		got, err := m.Parse([]byte(c.Message))
		if (err == nil) != (werr == nil) {
			t.Fatalf("%s: %q: error %v, Parse's %v", c.Source, c.Message, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q:\n\t%+v %+v\n\twant %+v %+v", c.Source, c.Message, got, got.Syslog, want, want.Syslog)
		}
	}
}
