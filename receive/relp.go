package receive

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/netlog-go/netlog/internal/relp"
)

// ServeRELP is ServeStream for RELP (rsyslog's omrelp, netlog's syslog
// handler on the "relp" network): it answers "open", takes each "syslog"
// message as ServeSyslogStream does, and acknowledges it only once the
// Sink has written it; a message the Sink fails is answered with an error
// code, so the sender keeps it. A malformed frame closes the connection.
// A session's messages go through the pipeline a stream's frames do
// (ServeStream); its answers go out each time the writer commits: when
// the reader has nothing more to read, or has read relpBatch commands
// since the last commit.
func (s *Server) ServeRELP(ctx context.Context, ln net.Listener) error {
	return s.serveStream(ctx, ln, relpSessions)
}

// relpSessions is the RELP protocol: syslog messages, read, decoded and
// written as a stream's frames are, each answered once committed.
var relpSessions = &protocol{
	reader: func(s *Server, cn *conn) frameReader {
		return &relpReader{Reader: relp.NewReader(cn.br, s.maxFrame())} // reads through br itself
	},
	decode:   syslogMessages.decode,
	into:     syslogMessages.into,
	answered: true,
}

// relpBatch is how many answers a session's reader hands over, at most,
// before it asks for a commit, so that they go out while it reads on.
const relpBatch = 256

// notDelivered answers a message the Sink refused, or whose commit
// failed: the sender keeps it.
const notDelivered = "500 not delivered"

// relpAnswer is an answer waiting for its commit, or run answers of
// consecutive txnrs from txnr on: a session's pending answers keep a
// window of messages added to the Sink as one.
type relpAnswer struct {
	txnr int
	text string
	held bool // a message added to the Sink: "200 OK" only once committed
	run  int
}

// errAnswered is relpReader.Next's for a command that is not a message:
// there is no frame, only its answer. errClosed is for "close".
var (
	errAnswered = errors.New("relp: a command answered")
	errClosed   = errors.New("relp: session closed")
)

// relpReader reads a RELP session for readFrames: the data of each
// "syslog" command is a frame, and every command's answer waits, in
// order, to be taken with the frame into the chunk it goes in.
type relpReader struct {
	*relp.Reader
	answers []relpAnswer
}

func (r *relpReader) Next() ([]byte, error) {
	f, err := r.Reader.Next()
	if err != nil {
		return nil, err
	}
	switch f.Command {
	case "syslog":
		r.answers = append(r.answers, relpAnswer{f.Txnr, relp.OK, true, 1})
		return f.Data, nil
	case "open":
		r.answers = append(r.answers, relpAnswer{f.Txnr, relp.OK + "\n" + relp.Offers, false, 1})
	case "close":
		r.answers = append(r.answers, relpAnswer{f.Txnr, "", false, 1})
		return nil, errClosed
	default:
		r.answers = append(r.answers, relpAnswer{f.Txnr, "500 unknown command", false, 1})
	}
	return nil, errAnswered
}

// moveAnswers moves the answers fr has read, if it is a relpReader,
// into c.
func moveAnswers(fr frameReader, c *chunk) {
	if r, ok := fr.(*relpReader); ok {
		c.answers = append(c.answers, r.answers...)
		r.answers = r.answers[:0]
	}
}

// relpAcks are a session's answers, written by its pipeline's writer once
// the records before them are committed — the Sink has written them.
// Writing a commit's answers may take up to FrameTimeout: a peer that
// leaves them unread longer is refused as ReasonSlow, and its
// connection closed.
type relpAcks struct {
	pending []relpAnswer // since the last commit
	cn      *conn
	timeout time.Duration // for each commit's answers
	out     []byte        // answers being written
	tail    []byte        // what follows the txnr in each answer of a run
}

func newRELPAcks(s *Server, cn *conn) *relpAcks {
	return &relpAcks{cn: cn, timeout: s.frameTimeout()}
}

// add adds c's records to the Sink, as the writer does a stream's, but a
// record the Sink refuses, or a frame without one, is answered "500 not
// delivered" and the session goes on. c's answers wait for the commit.
func (a *relpAcks) add(s *Server, cn *conn, cp *commitPoint, c *chunk) {
	next := 0 // c.done's next, the record of the next held answer
	for _, w := range c.answers {
		if w.held {
			d := c.done[next]
			next++
			if d.err == nil {
				d.reason, d.err = s.hand(cp, d.e, cn.listener, cn.peer)
			}
			if d.err != nil {
				s.refuse(cn.listener, cn.peer, d.reason, d.err)
				w = relpAnswer{w.txnr, notDelivered, false, 1}
			}
		}
		if n := len(a.pending); w.held && n > 0 {
			if last := &a.pending[n-1]; last.held && last.txnr+last.run == w.txnr {
				last.run++
				continue
			}
		}
		a.pending = append(a.pending, w)
	}
}

// send writes the answers pending: a message's "200 OK" if the commit
// went well, else "500 not delivered", so that the sender keeps it.
func (a *relpAcks) send(committed bool) error {
	if len(a.pending) == 0 {
		return nil
	}
	a.cn.SetWriteDeadline(time.Now().Add(a.timeout)) // one for all of them
	for _, w := range a.pending {
		text := w.text
		if w.held && !committed {
			text = notDelivered
		}
		a.tail = relp.AppendTail(a.tail[:0], "rsp", []byte(text))
		for i := range w.run {
			if a.out = append(strconv.AppendInt(a.out, int64(w.txnr+i), 10), a.tail...); len(a.out) >= relpWrite {
				if err := a.write(); err != nil {
					return err
				}
			}
		}
	}
	a.pending = a.pending[:0]
	return a.write()
}

// relpWrite is about how many bytes of answers a session writes at
// once: a window's answers go out in a few writes, from a small buffer.
const relpWrite = 8 << 10

// write writes the answers in out, if any.
func (a *relpAcks) write() error {
	if len(a.out) == 0 {
		return nil
	}
	_, err := a.cn.Write(a.out)
	a.out = a.out[:0]
	return err
}
