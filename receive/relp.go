package receive

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/netlog-go/netlog/internal/relp"
)

// ServeRELP is ServeStream for RELP (rsyslog's omrelp, netlog's syslog
// handler on the "relp" network): it answers "open", takes each "syslog"
// message as ServeSyslogStream does, and acknowledges it only once the
// Sink has written it; a message the Sink fails is answered with an error
// code, so the sender keeps it. A malformed frame closes the connection.
func (s *Server) ServeRELP(ctx context.Context, ln net.Listener) error {
	return s.serveStream(ctx, ln, relpSessions)
}

// relpSessions is the RELP protocol: syslog messages, in sessions.
var relpSessions = &protocol{session: (*Server).serveRELP}

// serveRELP runs one RELP session on cn. Writing the answers may take
// up to FrameTimeout: a peer that leaves them unread longer is refused as
// ReasonSlow, and its connection closed.
func (s *Server) serveRELP(cn *conn) {
	rd := relp.NewReader(cn.br, s.maxFrame()) // uses br: it is large enough
	rd.A = cn.mem
	defer rd.Release()
	w := &deadlineWriter{cn: cn, timeout: orDefault(s.FrameTimeout, DefaultFrameTimeout)}
	bw := bufio.NewWriter(w)
	var out []byte
	respond := func(txnr int, text string) {
		out = relp.Append(out[:0], txnr, "rsp", []byte(text))
		bw.Write(out)
	}
	defer func() {
		if w.err != nil && cn.ctx.Err() == nil {
			s.refuse(cn.listener, cn.peer, ReasonSlow, fmt.Errorf("writing acknowledgments: %w", w.err))
		}
	}()
	for {
		err := s.awaitFrame(cn)
		if err == errIdle {
			return
		}
		var f relp.Frame
		if err == nil {
			f, err = rd.Next()
		}
		if err != nil {
			bw.Flush()
			s.endConn(cn, err)
			return
		}
		s.frames.Add(1)
		switch f.Command {
		case "open":
			respond(f.Txnr, relp.OK+"\n"+relp.Offers)
		case "syslog":
			if s.deliver(syslogMessages, cn.listener, cn.peer, f.Data) {
				respond(f.Txnr, relp.OK)
			} else {
				respond(f.Txnr, "500 not delivered")
			}
		case "close":
			respond(f.Txnr, "")
			bw.Flush()
			return
		default:
			respond(f.Txnr, "500 unknown command")
		}
		cn.mem.delivered(rd)
		if rd.Buffered() == 0 || w.err != nil { // answer in batches while more commands wait
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}

// deadlineWriter writes to a connection within a timeout per write, and
// keeps the first error.
type deadlineWriter struct {
	cn      *conn
	timeout time.Duration
	err     error
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.cn.SetWriteDeadline(time.Now().Add(w.timeout))
	n, err := w.cn.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}
