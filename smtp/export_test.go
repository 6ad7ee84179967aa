package smtp

import (
	"time"

	"github.com/netlog-go/netlog"
)

// SetClock replaces the clock of h's rate limit and retry schedule, h
// from NewHandler. Call it before the first record.
func SetClock(h netlog.Handler, now func() time.Time) { h.(*smtpHandler).m.now = now }
