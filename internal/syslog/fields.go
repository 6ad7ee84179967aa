package syslog

import "github.com/netlog-go/netlog/record"

// AppendFields appends, with enc, the keys of a syslog message's fields
// to an open record: "syslog_format"; unless it is "raw", "facility" and
// "severity" (names), "hostname", "appname", "procid", "msgid" and
// "structured_data" (SD-ID → PARAM-NAME → value). The receiver's JSON
// output and a relay's pickle and JSON frames carry them so.
func AppendFields(enc record.Encoder, b []byte, s *record.Syslog) []byte {
	b = enc.String(enc.Key(b, "syslog_format"), s.Format)
	if s.Format == "raw" {
		return b
	}
	b = enc.String(enc.Key(b, "facility"), Facility(s.Facility).String())
	b = enc.String(enc.Key(b, "severity"), Severity(s.Severity).String())
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
