package netlog

import "errors"

// errNoLocalSyslog refuses the "local" network where there is no local
// syslog daemon to send to.
var errNoLocalSyslog = errors.New(`syslog network "local": windows has no local syslog daemon (/dev/log); send to a collector with "udp", "tcp", "tls" or "relp"`)
