package syslog

import (
	"bytes"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	gosyslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/netlog-go/netlog/record"
)

// Parse decodes one syslog message: RFC 5424 if its version is 1, else
// RFC 3164 if a 3164 timestamp follows <PRI>, else the bare form Python's
// SysLogHandler sends (<PRI> then the message; Syslog.Format "bare"). A
// trailing NUL or newline is ignored. The Entry has Msg, Created, the level
// of the severity, Name (app-name), Process (procid, if a number) and
// Syslog set.
func Parse(p []byte) (*record.Entry, error) {
	p = bytes.TrimRight(p, "\x00\n\r")
	if is5424(p) {
		m, err := rfc5424.NewParser(rfc5424.WithBestEffort()).Parse(p)
		if sm, ok := m.(*rfc5424.SyslogMessage); ok && sm != nil && sm.Valid() {
			e := fromBase(&sm.Base, "rfc5424")
			e.Syslog.SD = sd(sm.StructuredData)
			return e, nil
		}
		return nil, parseError(err)
	}
	m, err := rfc3164.NewParser(rfc3164.WithBestEffort(), rfc3164.WithYear(rfc3164.CurrentYear{}),
		rfc3164.WithLocaleTimezone(time.Local), rfc3164.WithRFC3339()).Parse(p)
	if sm, ok := m.(*rfc3164.SyslogMessage); ok && sm != nil && sm.Valid() && sm.Timestamp != nil {
		return fromBase(&sm.Base, "rfc3164"), nil
	}
	if pri, rest, ok := splitPRI(p); ok {
		msg := string(rest)
		f, s := uint8(pri>>3), uint8(pri&7)
		return fromBase(&gosyslog.Base{Facility: &f, Severity: &s, Message: &msg}, "bare"), nil
	}
	return nil, parseError(err)
}

// splitPRI splits "<PRI>rest", PRI being 0 to 191.
func splitPRI(p []byte) (int, []byte, bool) {
	end := bytes.IndexByte(p, '>')
	if len(p) < 3 || p[0] != '<' || end < 2 || end > 4 {
		return 0, nil, false
	}
	pri, err := strconv.Atoi(string(p[1:end]))
	if err != nil || pri < 0 || pri > 191 {
		return 0, nil, false
	}
	return pri, p[end+1:], true
}

// is5424 reports whether p starts "<PRI>1 ".
func is5424(p []byte) bool {
	_, rest, ok := splitPRI(p)
	return ok && bytes.HasPrefix(rest, []byte("1 "))
}

func parseError(err error) error {
	if err == nil {
		err = errors.New("no priority")
	}
	return err
}

func fromBase(b *gosyslog.Base, format string) *record.Entry {
	s := &record.Syslog{Format: format}
	e := &record.Entry{Syslog: s}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return text(*p)
	}
	if b.Facility != nil {
		s.Facility = int(*b.Facility)
	}
	if b.Severity != nil {
		s.Severity = int(*b.Severity)
	}
	s.Hostname, s.AppName, s.ProcID, s.MsgID = str(b.Hostname), str(b.Appname), str(b.ProcID), str(b.MsgID)
	e.Msg = str(b.Message)
	if b.Timestamp != nil {
		e.Created = *b.Timestamp
	}
	e.Name = s.AppName
	if pid, err := strconv.Atoi(s.ProcID); err == nil {
		e.Process = pid
	}
	e.LevelNo = record.LevelNo(Severity(s.Severity).Level())
	e.LevelName = record.LevelName(e.LevelNo)
	return e
}

// text is s with each invalid UTF-8 sequence replaced by U+FFFD: a
// message may hold any bytes (RFC 5424's MSG-ANY), an Entry holds text.
func text(s string) string { return strings.ToValidUTF8(s, "\ufffd") }

func sd(m *map[string]map[string]string) []record.SDElement {
	if m == nil {
		return nil
	}
	var out []record.SDElement
	for id, params := range *m {
		el := record.SDElement{ID: id}
		for k, v := range params {
			el.Params = append(el.Params, record.SDParam{Name: k, Value: text(v)})
		}
		sort.Slice(el.Params, func(i, j int) bool { return el.Params[i].Name < el.Params[j].Name })
		out = append(out, el)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
