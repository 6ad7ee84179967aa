package receive

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/record"
)

// Printer is a Sink that writes one line per record to W, each with a single
// Write. The text form is
//
//	TIME LEVELNAME NAME: MSG key=value group.key=value source=FILE:LINE
//
// with TIME in RFC 3339 (microseconds, UTC; "-" if unknown), values quoted
// when they hold spaces, quotes, '=' or control characters, and exc_text and
// stack_info following on their own lines, each indented by a tab. A
// syslog message adds, before the source, facility=, severity=, hostname=,
// procid=, msgid= (those that are set), each structured data parameter as
// SD-ID.NAME=VALUE, and syslog=raw for a message that did not parse.
//
// The JSON form is the record's JSON wire form (record.JSON): the
// LogRecord fields and the attributes, groups as nested objects; a syslog
// message adds "syslog_format", "facility" and "severity" (names),
// "hostname", "appname", "procid", "msgid" and "structured_data" (an
// object of SD-ID → object of PARAM-NAME → value).
type Printer struct {
	W    io.Writer
	JSON bool

	mu  sync.Mutex
	buf []byte
}

// Write prints e.
func (p *Printer) Write(e *record.Entry) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.JSON {
		b := record.JSONFormat.AppendBody(p.buf[:0], e)
		if e.Syslog != nil {
			b = appendSyslogJSON(b, e.Syslog)
		}
		p.buf = append(record.JSON.End(b), '\n')
	} else {
		p.buf = appendText(p.buf[:0], e)
	}
	_, err := p.W.Write(p.buf)
	return err
}

func appendText(b []byte, e *record.Entry) []byte {
	if e.Created.IsZero() {
		b = append(b, '-')
	} else {
		b = e.Created.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	}
	b = append(b, ' ')
	b = append(b, e.LevelName...)
	b = append(b, ' ')
	b = append(b, e.Name...)
	b = append(b, ": "...)
	b = appendIndented(b, e.Msg)
	for _, a := range e.Attrs {
		b = appendTextAttr(b, "", a)
	}
	if e.Syslog != nil {
		b = appendSyslogText(b, e.Syslog)
	}
	if e.Lineno > 0 {
		b = append(b, " source="...)
		b = appendTextValue(b, e.Pathname+":"+strconv.Itoa(e.Lineno))
	}
	for _, block := range [...]string{e.ExcText, e.StackInfo} {
		if block == "" {
			continue
		}
		b = appendIndented(append(b, "\n\t"...), block)
	}
	return append(b, '\n')
}

// appendIndented appends s with a tab after each newline, so that a
// multi-line message or traceback stays visibly one record.
func appendIndented(b []byte, s string) []byte {
	for _, r := range s {
		b = utf8.AppendRune(b, r)
		if r == '\n' {
			b = append(b, '\t')
		}
	}
	return b
}

func appendTextAttr(b []byte, prefix string, a slog.Attr) []byte {
	if a.Value.Kind() == slog.KindGroup {
		for _, ga := range a.Value.Group() {
			b = appendTextAttr(b, prefix+a.Key+".", ga)
		}
		return b
	}
	b = append(b, ' ')
	b = append(b, prefix...)
	b = append(b, a.Key...)
	b = append(b, '=')
	if a.Value.Kind() == slog.KindTime {
		return a.Value.Time().AppendFormat(b, time.RFC3339Nano)
	}
	return appendTextValue(b, a.Value.String())
}

func appendTextValue(b []byte, s string) []byte {
	for _, r := range s {
		if r == ' ' || r == '"' || r == '=' || !unicode.IsPrint(r) {
			return strconv.AppendQuote(b, s)
		}
	}
	if s == "" {
		return append(b, `""`...)
	}
	return append(b, s...)
}

func appendSyslogText(b []byte, s *record.Syslog) []byte {
	if s.Format == "raw" {
		return append(b, " syslog=raw"...)
	}
	for _, f := range [...]struct{ k, v string }{
		{"facility", syslog.Facility(s.Facility).String()}, {"severity", syslog.Severity(s.Severity).String()},
		{"hostname", s.Hostname}, {"procid", s.ProcID}, {"msgid", s.MsgID},
	} {
		if f.v != "" {
			b = appendTextValue(append(append(append(b, ' '), f.k...), '='), f.v)
		}
	}
	for _, el := range s.SD {
		for _, p := range el.Params {
			b = append(append(append(append(b, ' '), el.ID...), '.'), p.Name...)
			b = appendTextValue(append(b, '='), p.Value)
		}
	}
	return b
}

func appendSyslogJSON(b []byte, s *record.Syslog) []byte {
	enc := record.JSON
	b = enc.String(enc.Key(b, "syslog_format"), s.Format)
	if s.Format == "raw" {
		return b
	}
	b = enc.String(enc.Key(b, "facility"), syslog.Facility(s.Facility).String())
	b = enc.String(enc.Key(b, "severity"), syslog.Severity(s.Severity).String())
	for _, f := range [...]struct{ k, v string }{
		{"hostname", s.Hostname}, {"appname", s.AppName}, {"procid", s.ProcID}, {"msgid", s.MsgID},
	} {
		b = enc.String(enc.Key(b, f.k), f.v)
	}
	b = enc.Open(enc.Key(b, "structured_data"))
	for _, el := range s.SD {
		b = enc.Open(enc.Key(b, el.ID))
		for _, p := range el.Params {
			b = enc.String(enc.Key(b, p.Name), p.Value)
		}
		b = enc.Close(b)
	}
	return enc.Close(b)
}
