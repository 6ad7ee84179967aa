package receive

import "time"

// deadlineSlack is how much later than the one in force a new read
// deadline may be and still not be set: setting one costs a timer
// update in the runtime, once per frame otherwise, and a deadline that
// comes at most this much early changes nothing that matters.
const deadlineSlack = 20 * time.Millisecond

// SetReadDeadline sets the connection's read deadline, unless the one in
// force is at most deadlineSlack earlier than t (while the server is not
// stopping: wind sets the drain's deadline behind its back).
func (cn *conn) SetReadDeadline(t time.Time) error {
	if cn.ctx.Err() == nil && !cn.rd.IsZero() && !t.Before(cn.rd) && t.Sub(cn.rd) < deadlineSlack {
		return nil
	}
	cn.rd = t
	return cn.Conn.SetReadDeadline(t)
}
