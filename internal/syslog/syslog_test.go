package syslog

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestPriorityNames(t *testing.T) {
	for name, want := range map[string]Facility{
		"kern": Kern, "user": User, "authpriv": AuthPriv, "ntp": NTP, "security": Security,
		"console": Console, "solaris-cron": SolarisCron, "local0": Local0, "LOCAL7": Local7, "23": Local7,
	} {
		if got, err := ParseFacility(name); err != nil || got != want {
			t.Errorf("ParseFacility(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	for name, want := range map[string]Severity{
		"emerg": Emerg, "panic": Emerg, "critical": Crit, "error": Err, "warn": Warning, "warning": Warning, "7": Debug,
	} {
		if got, err := ParseSeverity(name); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	for _, bad := range []string{"local8", "24", "-1", ""} {
		if _, err := ParseFacility(bad); err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("ParseFacility(%q): %v", bad, err)
		}
	}
	if p := Priority(Local4, Notice); p != 165 {
		t.Errorf("Priority(local4, notice) = %d, want 165", p)
	}
	for l, want := range map[slog.Level]Severity{-8: Debug, -4: Debug, 0: Info, 2: Info, 4: Warning, 8: Err, 12: Crit, 20: Crit} {
		if got := SeverityOf(l); got != want {
			t.Errorf("SeverityOf(%d) = %v, want %v", l, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, format, msg, host, app, procid, msgid string
		pri                                       int
		sd                                        string
	}{
		{`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\"ic\]ation"] An application event`,
			"rfc5424", "An application event", "mymachine.example.com", "evntslog", "", "ID47", 165, `exampleSDID@32473:eventSource=Appl"ic]ation,iut=3`},
		{"<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed\n", "rfc3164", "'su root' failed", "mymachine", "su", "123", "", 34, ""},
		{"<14>myapp: hello world\x00", "bare", "hello world", "", "myapp", "", "", 14, ""},
		{"<14>hello world\x00", "bare", "hello world", "", "", "", "", 14, ""},
		{"<14>AUG 30 2026 23:00:05.250: X4711 cron[7] line\nnext\n", "rfc3164", "line\nnext", "X4711", "cron", "7", "", 14, ""},
		{"<134>Dec  1 05:10:54 vm [main] netlog.capture m01", "rfc3164", "netlog.capture m01", "vm", "", "main", "", 134, ""},
		{"<131>Dec  1 05:10:54 vm \tat Sender.main(Sender.java:19)", "rfc3164", "\tat Sender.main(Sender.java:19)", "vm", "", "", "", 131, ""},
		{"<4>Dec  1 05:10:54 vm [ 12.5] eth0: down", "rfc3164", "[ 12.5] eth0: down", "vm", "", "", "", 4, ""},
		{"Feb 18 16:01:59 serverX -- MARK --", "rfc3164-nopri", "MARK --", "serverX", "--", "", "", 13, ""},
		{"<13>Dec  1 02:43:05 winhost MSWinEventLog\t1\tSecurity", "rfc3164", "1\tSecurity", "winhost", "MSWinEventLog", "", "", 13, ""},
		{"<191>x", "bare", "x", "", "", "", "", 191, ""},
	} {
		e, err := Parse([]byte(c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		s := e.Syslog
		var sd []string
		for _, el := range s.SD {
			var ps []string
			for _, p := range el.Params {
				ps = append(ps, p.Name+"="+p.Value)
			}
			sd = append(sd, el.ID+":"+strings.Join(ps, ","))
		}
		if s.Format != c.format || e.Msg != c.msg || s.Hostname != c.host || s.AppName != c.app || s.ProcID != c.procid ||
			s.MsgID != c.msgid || s.Facility<<3|s.Severity != c.pri || strings.Join(sd, ";") != c.sd {
			t.Errorf("%q: got %q %+v", c.in, e.Msg, *s)
		}
	}
	for _, bad := range []string{"garbage", "<192>too high", "<>", ""} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestAppendHelpers(t *testing.T) {
	if got := string(AppendSDValue(nil, "a\"b\\c]d\xffe")); got != `a\"b\\c\]d`+"\ufffd"+"e" {
		t.Errorf("AppendSDValue = %q", got)
	}
	h := &Header{Facility: Local0, Severity: Err, Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	if got := string(AppendRFC5424Header(nil, h)); got != "<131>1 2026-01-02T03:04:05.000006Z - - - - " {
		t.Errorf("empty fields: %q", got)
	}
	h.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h.AppName, h.ProcID = "my app:x[1]", "9"
	if got := string(AppendRFC3164Header(nil, h)); got != "<131>Jan  2 03:04:05 myappx1][9]: " {
		t.Errorf("RFC 3164 header: %q", got)
	}
	if err := CheckSDID("ok@1"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "a b", "x=y", strings.Repeat("x", 33)} {
		if CheckSDID(bad) == nil {
			t.Errorf("CheckSDID(%q) accepted", bad)
		}
	}
}

// TestTimestamp: the cached form equals time's own, across seconds, zones
// and fractions.
func TestTimestamp(t *testing.T) {
	east := time.FixedZone("", 5*3600+30*60)
	base := time.Date(2026, 11, 24, 23, 59, 59, 0, time.UTC)
	for _, tm := range []time.Time{
		base, base.Add(999999 * time.Microsecond), base.Add(time.Second + 7*time.Microsecond),
		base.In(east), base.Add(123456789).In(east), base.Add(1).Local(),
	} {
		want := tm.Format("2006-01-02T15:04:05.000000Z07:00")
		if got := string(appendTimestamp(nil, tm)); got != want {
			t.Errorf("%v: %q, want %q", tm, got, want)
		}
	}
}

// TestRefusedSaysWhy: a refused message's error wraps ErrUnparsed and names
// what is wrong; Raw keeps the PRI's facility and severity.
func TestRefusedSaysWhy(t *testing.T) {
	for in, want := range map[string]string{
		"<13>1 2026-12-01T02:43:05Z h " + strings.Repeat("a", 49) + " - - - x": "APP-NAME is 49 characters, over 48",
		"<13>1 2026-12-01T02:43:05 h a - - - x":                                "no time zone",
		`<13>1 - h a - - [id a= "b"] x`:                                        `SD-PARAM a: at offset 21: want "=\""`,
		"<13>Dec  1 02:43:05 h ap\x01p: x":                                     "as RFC 3164",
		"no PRI":                                                               "no <PRI>",
	} {
		_, err := Parse([]byte(in))
		if !errors.Is(err, ErrUnparsed) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want ErrUnparsed saying %q", in, err, want)
		}
	}
	if e := Raw([]byte("<13>1 bad\n")); e.Msg != "<13>1 bad" || e.Syslog.Facility != 1 || e.Syslog.Severity != 5 || e.LevelNo != 25 {
		t.Errorf("Raw: %+v %+v", e, e.Syslog)
	}
	if e := Raw([]byte("no PRI")); e.Syslog.Facility != 0 || e.LevelNo != 0 || e.LevelName != "NOTSET" {
		t.Errorf("Raw without PRI: %+v", e)
	}
}
