package syslog

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse: any message parses or is refused, never a panic, and what
// parses has valid UTF-8 text. The seed corpus (testdata/fuzz/FuzzParse)
// holds what logger(1) and Python's SysLogHandler send.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event`))
	f.Add([]byte("<13>Nov 24 07:15:48 vm app: old style"))
	f.Add([]byte("<14>python form\x00"))
	f.Add([]byte("<999>1 - - - - - -"))
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := Parse(p)
		if err != nil {
			return
		}
		if e.Syslog == nil {
			t.Fatal("a parsed message without syslog fields")
		}
		texts := []string{e.Msg, e.Name, e.Syslog.Hostname, e.Syslog.AppName, e.Syslog.ProcID, e.Syslog.MsgID}
		for _, el := range e.Syslog.SD {
			for _, p := range el.Params {
				texts = append(texts, p.Value)
			}
		}
		for _, s := range texts {
			if !utf8.ValidString(s) {
				t.Fatalf("%q is not valid UTF-8", s)
			}
		}
	})
}
