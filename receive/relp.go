package receive

import (
	"bufio"
	"context"
	"net"

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

// serveRELP runs one RELP session on c, reading through br.
func (s *Server) serveRELP(ctx context.Context, c net.Conn, br *bufio.Reader, listener, peer string) {
	rd := relp.NewReader(br, s.maxFrame()) // uses br: it is large enough
	w := bufio.NewWriter(c)
	var out []byte
	respond := func(txnr int, text string) {
		out = relp.Append(out[:0], txnr, "rsp", []byte(text))
		w.Write(out)
	}
	for {
		err := s.awaitFrame(c, br)
		if err == errIdle {
			return
		}
		var f relp.Frame
		if err == nil {
			f, err = rd.Next()
		}
		if err != nil {
			w.Flush()
			s.endConn(ctx, listener, peer, err)
			return
		}
		s.frames.Add(1)
		switch f.Command {
		case "open":
			respond(f.Txnr, relp.OK+"\n"+relp.Offers)
		case "syslog":
			if s.deliver(syslogMessages, listener, peer, f.Data) {
				respond(f.Txnr, relp.OK)
			} else {
				respond(f.Txnr, "500 not delivered")
			}
		case "close":
			respond(f.Txnr, "")
			w.Flush()
			return
		default:
			respond(f.Txnr, "500 unknown command")
		}
		if rd.Buffered() == 0 { // answer in batches while more commands wait
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}
