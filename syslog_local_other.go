//go:build !windows

package netlog

// errNoLocalSyslog is nil: the "local" network exists here.
var errNoLocalSyslog error
