package receive

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync/atomic"
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
// hands them to be committed and sent.
const relpBatch = 256

// relpAnswer is an answer waiting for its commit.
type relpAnswer struct {
	txnr int
	text string
	held bool // a message added to the Sink: "200 OK" only once committed
}

// serveRELP runs one RELP session on cn. Its answers wait until the
// input has nothing more to give (or relpBatch are gathered); then they
// go, with the commit point of the messages among them, to the session's
// answerer, which commits them — the Sink has written them — and only
// then sends the answers, while the session reads on. Writing the
// answers may take up to FrameTimeout: a peer that leaves them unread
// longer is refused as ReasonSlow, and its connection closed.
func (s *Server) serveRELP(cn *conn) {
	rd := relp.NewReader(cn.br, s.maxFrame()) // uses br: it is large enough
	rd.A = cn.mem
	defer rd.Release()
	room, err := s.relpRoom(cn)
	if err != nil {
		s.endConn(cn, err)
		return
	}
	a := s.startAnswerer(cn)
	defer a.stop()
	var cp commitPoint
	var waiting []relpAnswer
	add := func(txnr int, text string, held bool) { waiting = append(waiting, relpAnswer{txnr, text, held}) }
	send := func() bool {
		ok := a.hand(cp, waiting)
		cp, waiting = commitPoint{}, a.recycled()
		return ok
	}
	for {
		err := s.awaitFrame(cn)
		if err == errIdle {
			send()
			return
		}
		var f relp.Frame
		if err == nil {
			f, err = rd.Next()
		}
		if err != nil {
			send()
			s.endConn(cn, err)
			return
		}
		s.frames.Add(1)
		switch f.Command {
		case "open":
			add(f.Txnr, relp.OK+"\n"+relp.Offers, false)
		case "syslog":
			if reason, err := s.deliverRELP(room, &cp, cn, f.Data); err != nil {
				s.refuse(cn.listener, cn.peer, reason, err)
				add(f.Txnr, "500 not delivered", false)
			} else {
				add(f.Txnr, relp.OK, true)
			}
		case "close":
			add(f.Txnr, "", false)
			send()
			return
		default:
			add(f.Txnr, "500 unknown command", false)
		}
		cn.mem.delivered(rd)
		if rd.Buffered() == 0 || len(waiting) >= relpBatch {
			if !send() {
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

// relpAnswerer commits a session's batches of answers and sends them,
// in order, on a goroutine of its own, so that the session reads and
// decodes the next messages while a batch is written. At most two
// batches wait for it: a session whose answers cannot go out stops
// reading.
type relpAnswerer struct {
	s      *Server
	cn     *conn
	w      *deadlineWriter
	bw     *bufio.Writer
	work   chan relpAnswers
	free   chan []relpAnswer
	failed atomic.Bool // the answers could not be written: the session ends
	done   chan struct{}
}

// relpAnswers is a batch of answers and the commit point of its messages.
type relpAnswers struct {
	cp      commitPoint
	answers []relpAnswer
}

func (s *Server) startAnswerer(cn *conn) *relpAnswerer {
	w := &deadlineWriter{cn: cn, timeout: orDefault(s.FrameTimeout, DefaultFrameTimeout)}
	a := &relpAnswerer{s: s, cn: cn, w: w, bw: bufio.NewWriter(w),
		work: make(chan relpAnswers, 2), free: make(chan []relpAnswer, 3), done: make(chan struct{})}
	go a.run()
	return a
}

// hand gives the answerer a batch; it reports false once answers could
// not be written.
func (a *relpAnswerer) hand(cp commitPoint, answers []relpAnswer) bool {
	if len(answers) > 0 && !a.failed.Load() {
		a.work <- relpAnswers{cp, answers}
	}
	return !a.failed.Load()
}

// recycled is an empty answer list, one the answerer is done with if any.
func (a *relpAnswerer) recycled() []relpAnswer {
	select {
	case l := <-a.free:
		return l[:0]
	default:
		return nil
	}
}

// stop waits until every batch handed is answered, and reports a peer
// too slow to take them.
func (a *relpAnswerer) stop() {
	close(a.work)
	<-a.done
	if a.w.err != nil && a.cn.ctx.Err() == nil {
		a.s.refuse(a.cn.listener, a.cn.peer, ReasonSlow, fmt.Errorf("writing acknowledgments: %w", a.w.err))
	}
}

func (a *relpAnswerer) run() {
	defer close(a.done)
	var out []byte
	for b := range a.work {
		if a.failed.Load() {
			continue // the session is ending; its messages stay unacknowledged
		}
		committed := true
		if err := a.s.commit(context.Background(), &b.cp); err != nil {
			a.s.refuse(a.cn.listener, a.cn.peer, ReasonSink, err)
			committed = false
		}
		for _, w := range b.answers {
			text := w.text
			if w.held && !committed {
				text = "500 not delivered"
			}
			out = relp.Append(out[:0], w.txnr, "rsp", []byte(text))
			a.bw.Write(out)
		}
		if a.bw.Flush() != nil {
			a.failed.Store(true)
		}
		select {
		case a.free <- b.answers:
		default:
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
