package netlog

import "time"

// SetSMTPClock replaces the clock of h's rate limit and retry schedule.
// Call it before the first record.
func SetSMTPClock(h *SMTPHandler, now func() time.Time) { h.m.now = now }
