// Package syslog formats and parses syslog messages: RFC 5424, RFC 3164
// and the bare form Python's SysLogHandler sends, with the facility and
// severity names Python knows.
package syslog

import (
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
)

// Facility is a syslog facility, 0 to 23.
type Facility int

// Severity is a syslog severity, 0 (emerg) to 7 (debug).
type Severity int

// The facilities, with Python's numbers (logging.handlers.SysLogHandler).
const (
	Kern Facility = iota
	User
	Mail
	Daemon
	Auth
	Syslog
	LPR
	News
	UUCP
	Cron
	AuthPriv
	FTP
	NTP
	Security
	Console
	SolarisCron
	Local0
	Local1
	Local2
	Local3
	Local4
	Local5
	Local6
	Local7
)

// The severities.
const (
	Emerg Severity = iota
	Alert
	Crit
	Err
	Warning
	Notice
	Info
	Debug
)

var facilityNames = []string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

var severityNames = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// severityAliases are Python's other priority names.
var severityAliases = map[string]Severity{"panic": Emerg, "critical": Crit, "error": Err, "warn": Warning}

func (f Facility) String() string {
	if f >= 0 && int(f) < len(facilityNames) {
		return facilityNames[f]
	}
	return strconv.Itoa(int(f))
}

func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return strconv.Itoa(int(s))
}

// ParseFacility takes a facility name Python knows ("local0") or number
// ("16"). The error names what it got and lists the names.
func ParseFacility(s string) (Facility, error) {
	for i, n := range facilityNames {
		if strings.EqualFold(s, n) {
			return Facility(i), nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(facilityNames) {
		return Facility(n), nil
	}
	return 0, fmt.Errorf("unknown syslog facility %q (want 0-23 or one of %s)", s, strings.Join(facilityNames, ", "))
}

// ParseSeverity takes a severity name Python knows ("warning", "warn") or
// number ("4").
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	if sev, ok := severityAliases[strings.ToLower(s)]; ok {
		return sev, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(severityNames) {
		return Severity(n), nil
	}
	names := append([]string(nil), severityNames...)
	for a := range severityAliases {
		names = append(names, a)
	}
	sort.Strings(names[len(severityNames):])
	return 0, fmt.Errorf("unknown syslog severity %q (want 0-7 or one of %s)", s, strings.Join(names, ", "))
}

// Priority is (facility << 3) | severity, the number in <PRI>.
func Priority(f Facility, s Severity) int { return int(f)<<3 | int(s) }

// SeverityOf is the default slog level → severity map: below Info debug,
// below Warn info, below Error warning, below 12 err, else crit.
func SeverityOf(l slog.Level) Severity {
	switch {
	case l < slog.LevelInfo:
		return Debug
	case l < slog.LevelWarn:
		return Info
	case l < slog.LevelError:
		return Warning
	case l < slog.LevelError+4:
		return Err
	}
	return Crit
}

// Level is the slog level a receiver gives a severity: the inverse of
// SeverityOf, with notice between Info and Warn and emerg and alert above
// crit.
func (s Severity) Level() slog.Level {
	return [...]slog.Level{20, 16, 12, 8, 4, 2, 0, -4}[min(max(int(s), 0), 7)]
}
