//go:build windows || plan9

package netlog

import (
	"runtime"
	"testing"
)

// benchGoSyslog: no baseline where Go has no log/syslog.
func benchGoSyslog(b *testing.B, _ string, _ bool) {
	b.Skipf("log/syslog does not exist on %s", runtime.GOOS)
}
