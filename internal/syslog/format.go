package syslog

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Format names a message layout.
type Format string

// The layouts a sender can choose.
const (
	RFC5424 Format = "rfc5424" // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
	RFC3164 Format = "rfc3164" // <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG
	Python  Format = "python"  // <PRI>IDENT MSG, what Python's SysLogHandler sends
)

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case RFC5424, RFC3164, Python:
		return f, nil
	case "":
		return RFC5424, nil
	}
	return "", fmt.Errorf("unknown syslog format %q (want rfc5424, rfc3164 or python)", s)
}

// RFC 5424 §6 field limits.
const (
	MaxHostname = 255
	MaxAppName  = 48
	MaxProcID   = 128
	MaxMsgID    = 32
	MaxSDName   = 32
	MaxTag      = 32 // RFC 3164 §4.1.3
)

// Header is what a message carries besides its text.
type Header struct {
	Facility Facility
	Severity Severity
	Time     time.Time // zero: NILVALUE
	Hostname string
	AppName  string
	ProcID   string
	MsgID    string
}

// AppendPRI appends "<PRI>".
func AppendPRI(b []byte, f Facility, s Severity) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(Priority(f, s)), 10)
	return append(b, '>')
}

// AppendRFC5424Header appends "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID
// MSGID " with each field held to its RFC length and to printable US-ASCII
// (other bytes become '_'), and "-" for what is empty. The timestamp has
// microseconds and the zone offset.
func AppendRFC5424Header(b []byte, h *Header) []byte {
	b = append(AppendPRI(b, h.Facility, h.Severity), '1', ' ')
	if h.Time.IsZero() {
		b = append(b, '-')
	} else {
		b = appendTimestamp(b, h.Time)
	}
	b = appendField(append(b, ' '), h.Hostname, MaxHostname)
	b = appendField(append(b, ' '), h.AppName, MaxAppName)
	b = appendField(append(b, ' '), h.ProcID, MaxProcID)
	b = appendField(append(b, ' '), h.MsgID, MaxMsgID)
	return append(b, ' ')
}

// appendField appends a header field: PRINTUSASCII, at most max bytes.
func appendField(b []byte, s string, max int) []byte {
	if s == "" {
		return append(b, '-')
	}
	for i := 0; i < len(s) && i < max; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// AppendSDName appends an SD-ID or PARAM-NAME: printable US-ASCII but
// '=', ']', '"' and space (those become '_'), at most MaxSDName bytes.
func AppendSDName(b []byte, s string) []byte {
	if s == "" {
		return append(b, '_')
	}
	for i := 0; i < len(s) && i < MaxSDName; i++ {
		c := s[i]
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// CheckSDID reports whether id is a valid SD-ID as it stands.
func CheckSDID(id string) error {
	if id == "" || len(id) > MaxSDName {
		return fmt.Errorf("SD-ID %q must have 1 to %d characters", id, MaxSDName)
	}
	if clean := string(AppendSDName(nil, id)); clean != id {
		return fmt.Errorf("SD-ID %q has a character outside printable US-ASCII or one of = ] \" and space", id)
	}
	return nil
}

// AppendSDValue appends a PARAM-VALUE's text, escaping '"', '\' and ']'
// with a backslash; invalid UTF-8 becomes U+FFFD.
func AppendSDValue(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == '"' || c == '\\' || c == ']' {
				b = append(b, '\\')
			}
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// AppendRFC3164Header appends "<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: ", the
// day padded with a space, TAG being AppName held to MaxTag characters
// without space, ':' or '['. An empty Hostname leaves HOST out, as
// syslog(3) does on the local socket, where the daemon adds its own.
func AppendRFC3164Header(b []byte, h *Header) []byte {
	b = AppendPRI(b, h.Facility, h.Severity)
	t := h.Time
	if t.IsZero() {
		t = time.Now()
	}
	b = append(t.AppendFormat(b, time.Stamp), ' ')
	if h.Hostname != "" {
		b = append(appendField(b, h.Hostname, MaxHostname), ' ')
	}
	n := 0
	for i := 0; i < len(h.AppName) && n < MaxTag; i++ {
		if c := h.AppName[i]; c > 32 && c < 127 && c != ':' && c != '[' {
			b = append(b, c)
			n++
		}
	}
	if h.ProcID != "" {
		b = appendField(append(b, '['), h.ProcID, MaxProcID)
		b = append(b, ']')
	}
	return append(b, ':', ' ')
}

// stamp is a formatted timestamp's second, "2006-01-02T15:04:05", and its
// zone, "Z07:00", for that second in one location.
type stamp struct {
	sec        int64
	loc        *time.Location
	date, zone []byte
}

// lastStamp caches the second most records of a busy logger share:
// formatting a whole timestamp costs more than the rest of the header.
var lastStamp atomic.Pointer[stamp]

// appendTimestamp appends t as RFC 3339 with microseconds, as
// t.AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00") does.
func appendTimestamp(b []byte, t time.Time) []byte {
	st := lastStamp.Load()
	if st == nil || st.sec != t.Unix() || st.loc != t.Location() {
		st = &stamp{sec: t.Unix(), loc: t.Location(),
			date: t.AppendFormat(nil, "2006-01-02T15:04:05"), zone: t.AppendFormat(nil, "Z07:00")}
		lastStamp.Store(st)
	}
	b = append(append(b, st.date...), '.')
	us := t.Nanosecond() / 1000
	for div := 100000; div > 0; div /= 10 {
		b = append(b, byte('0'+us/div%10))
	}
	return append(b, st.zone...)
}
