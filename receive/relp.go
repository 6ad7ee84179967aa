package receive

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"
	"unsafe"

	"github.com/netlog-go/netlog/internal/relp"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/record"
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

// relpBatch is how many answers a session gathers, at most, before it
// commits the messages among them and sends them.
const relpBatch = 256

// relpAnswer is an answer waiting for its commit.
type relpAnswer struct {
	txnr int
	text string
	held bool // a message added to the Sink: "200 OK" only once committed
}

// serveRELP runs one RELP session on cn. Its answers wait until the
// input has nothing more to give (or relpBatch are gathered); then the
// messages among them are committed — written by the Sink — and only
// then are the answers sent. Writing the answers may take up to
// FrameTimeout: a peer that leaves them unread longer is refused as
// ReasonSlow, and its connection closed.
func (s *Server) serveRELP(cn *conn) {
	rd := relp.NewReader(cn.br, s.maxFrame()) // uses br: it is large enough
	rd.A = cn.mem
	defer rd.Release()
	w := &deadlineWriter{cn: cn, timeout: orDefault(s.FrameTimeout, DefaultFrameTimeout)}
	a := &relpAnswers{s: s, cn: cn, bw: bufio.NewWriter(w)}
	room, err := s.relpRoom(cn)
	if err != nil {
		s.endConn(cn, err)
		return
	}
	defer func() {
		if w.err != nil && cn.ctx.Err() == nil {
			s.refuse(cn.listener, cn.peer, ReasonSlow, fmt.Errorf("writing acknowledgments: %w", w.err))
		}
	}()
	for {
		err := s.awaitFrame(cn)
		if err == errIdle {
			a.send()
			return
		}
		var f relp.Frame
		if err == nil {
			f, err = rd.Next()
		}
		if err != nil {
			a.send()
			s.endConn(cn, err)
			return
		}
		s.frames.Add(1)
		switch f.Command {
		case "open":
			a.add(f.Txnr, relp.OK+"\n"+relp.Offers, false)
		case "syslog":
			if reason, err := s.deliverRELP(room, &a.cp, cn, f.Data); err != nil {
				s.refuse(cn.listener, cn.peer, reason, err)
				a.add(f.Txnr, "500 not delivered", false)
			} else {
				a.add(f.Txnr, relp.OK, true)
			}
		case "close":
			a.add(f.Txnr, "", false)
			a.send()
			return
		default:
			a.add(f.Txnr, "500 unknown command", false)
		}
		cn.mem.delivered(rd)
		if rd.Buffered() == 0 || len(a.waiting) >= relpBatch || w.err != nil {
			if !a.send() {
				return
			}
		}
	}
}

// relpRoom is the room a session decodes each message into, if the
// Sink is Transient: it takes a record before the next is decoded, so
// one room serves the whole session, and a message costs no Entry of its
// own (the collector runs several times less often). It is charged to
// the budget with the connection's read buffer. Nil for other Sinks.
func (s *Server) relpRoom(cn *conn) (*chunk, error) {
	if _, ok := s.Sink.(Transient); !ok {
		return nil, nil
	}
	const size = int64(unsafe.Sizeof(syslog.Message{}))
	if err := s.charge(cn, size); err != nil {
		return nil, err
	}
	cn.mem.held += size
	return &chunk{msgs: make([]syslog.Message, 1)}, nil
}

// deliverRELP is deliver for a RELP message, decoded into room unless
// that is nil.
func (s *Server) deliverRELP(room *chunk, cp *commitPoint, cn *conn, data []byte) (Reason, error) {
	if room == nil {
		return s.deliver(syslogMessages, cp, cn.listener, cn.peer, data)
	}
	e, err := decodeSafely(func() (*record.Entry, error) { return syslogMessages.into(s, room, 0, data) })
	if err != nil {
		return reasonOf(err), err
	}
	return s.hand(cp, e, cn.listener, cn.peer)
}

// relpAnswers are a session's answers not yet sent.
type relpAnswers struct {
	s       *Server
	cn      *conn
	bw      *bufio.Writer
	cp      commitPoint
	waiting []relpAnswer
	out     []byte
}

func (a *relpAnswers) add(txnr int, text string, held bool) {
	a.waiting = append(a.waiting, relpAnswer{txnr, text, held})
}

// send commits the messages waiting, then sends every answer: "200 OK"
// for a message only if its commit succeeded. It returns false if the
// answers could not be written.
func (a *relpAnswers) send() bool {
	committed := true
	if err := a.s.commit(context.Background(), &a.cp); err != nil {
		a.s.refuse(a.cn.listener, a.cn.peer, ReasonSink, err)
		committed = false
	}
	for _, w := range a.waiting {
		text := w.text
		if w.held && !committed {
			text = "500 not delivered"
		}
		a.out = relp.Append(a.out[:0], w.txnr, "rsp", []byte(text))
		a.bw.Write(a.out)
	}
	a.waiting = a.waiting[:0]
	return a.bw.Flush() == nil
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
