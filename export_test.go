package netlog

import "time"

// SetSMTPClock replaces the clock of h's rate limit and retry schedule,
// h from NewSMTPHandler. Call it before the first record.
func SetSMTPClock(h Handler, now func() time.Time) { h.(*smtpHandler).m.now = now }
