package receive

import (
	"time"

	"github.com/netlog-go/netlog/internal/transport"
)

// SyslogJoinWait is how long a message of an LF-framed syslog stream is
// held for a line that may continue it, once no byte of that line is in:
// the last message before a pause is delivered that much later.
const SyslogJoinWait = 100 * time.Millisecond

// syslogReader reads the syslog messages of cn, joining the lines of
// multi-line ones unless SyslogSingleLine.
func syslogReader(s *Server, cn *conn) frameReader {
	r := transport.NewSyslogReader(cn.br, s.maxFrame())
	r.Borrow = maxCopied // readFrames copies such a frame into its chunk at once
	if !s.SyslogSingleLine {
		r.Join = &transport.LineJoin{
			Wait:  func(waiting bool) { s.joinWait(cn, waiting) },
			Lines: &s.joinedLines, Cuts: &s.joinCuts,
		}
	}
	return r
}

// joinWait sets the read deadline of a wait for a line that may continue
// a message: SyslogJoinWait from now, within the frame's time; after it,
// the frame's deadline again. Both end at the drain's end if the server
// is stopping.
func (s *Server) joinWait(cn *conn, waiting bool) {
	t := earliest(cn.frameEnd, s.deadline(s.frameTimeout()))
	if waiting {
		t = earliest(t, s.deadline(SyslogJoinWait))
	}
	cn.SetReadDeadline(t)
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
