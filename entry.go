package netlog

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"

	"github.com/netlog-go/netlog/internal/flat"
	"github.com/netlog-go/netlog/internal/forward"
	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// The handlers take a received record as it is (netlog serve's relay).
var (
	_ forward.Handler = (*socketHandler)(nil)
	_ forward.Handler = (*syslogHandler)(nil)
)

// HandleEntry sends a received entry in the handler's codec: every
// LogRecord field and attribute as it came, and where it came from.
func (h *socketHandler) HandleEntry(ctx context.Context, e *record.Entry) error {
	s := getState()
	defer putState(s)
	s.buf = h.c.appendEntry(s.buf[:0], e)
	return h.c.send(ctx, s.buf, e.Level())
}

// EnqueueEntry: see forward.Handler.
func (h *socketHandler) EnqueueEntry(ctx context.Context, e *record.Entry, room spool.Room) (uint64, error) {
	s := getState()
	defer putState(s)
	s.buf = h.c.appendEntry(s.buf[:0], e)
	return h.c.enqueue(ctx, s.buf, e.Level(), room)
}

// Delivered: see forward.Handler.
func (h *socketHandler) Delivered(ctx context.Context, from, to uint64) error {
	return h.c.delivered(ctx, from, to)
}

// appendEntry appends e as one frame of c's codec, with a syslog
// message's fields (syslog.AppendFields) and the peer and listener fields
// unless its attributes have them (from an earlier relay).
func (c *core) appendEntry(b []byte, e *record.Entry) []byte {
	f := c.format
	b = f.AppendBody(transport.BeginFrame(b), e)
	if e.Syslog != nil && !hasAttr(e.Attrs, "syslog_format") {
		b = syslog.AppendFields(f.Enc, b, e.Syslog)
	}
	if e.Peer != "" && !hasAttr(e.Attrs, "peer") {
		b = f.Enc.String(f.Enc.Key(b, "peer"), e.Peer)
		b = f.Enc.String(f.Enc.Key(b, "listener"), e.Listener)
	}
	b = f.Enc.End(b)
	transport.EndFrame(b, 0)
	return b
}

func hasAttr(attrs []slog.Attr, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

var errSync = errors.New("the handler is synchronous: it has no queue")

// enqueue queues frame in c's spool and returns its sequence number.
func (c *core) enqueue(ctx context.Context, frame []byte, level slog.Level, room spool.Room) (uint64, error) {
	if c.spool == nil {
		return 0, errSync
	}
	if err := c.oversize(frame); err != nil {
		return 0, err
	}
	seq, err := c.spool.Enqueue(ctx, frame, c.severity(level), room)
	if err != nil {
		err = c.refusals[err]
		c.errs.report(CauseDropped, 1, err)
	}
	return seq, err
}

func (c *core) delivered(ctx context.Context, from, to uint64) error {
	if c.spool == nil {
		return errSync
	}
	if err := c.spool.Wait(ctx, from, to); err != nil {
		return newError(c.dest, CauseDropped, 0, err)
	}
	return nil
}

// HandleEntry sends a received entry as one syslog message: a syslog
// message keeps its facility, severity, HOSTNAME, APP-NAME, PROCID, MSGID
// and structured data; another record has its logger name as APP-NAME,
// its process as PROCID and the sender's host as HOSTNAME. Attributes and
// the source travel as the handler's attributes do; in RFC 5424 where the
// record was received travels in an element forward.SDID, elsewhere as
// peer= and listener=.
func (h *syslogHandler) HandleEntry(ctx context.Context, e *record.Entry) error {
	s := getState()
	defer putState(s)
	var frame []byte
	frame, s.buf, s.scratch = h.encodeEntry(s, e)
	return h.c.send(ctx, frame, e.Level())
}

// EnqueueEntry: see forward.Handler.
func (h *syslogHandler) EnqueueEntry(ctx context.Context, e *record.Entry, room spool.Room) (uint64, error) {
	s := getState()
	defer putState(s)
	var frame []byte
	frame, s.buf, s.scratch = h.encodeEntry(s, e)
	return h.c.enqueue(ctx, frame, e.Level(), room)
}

// Delivered: see forward.Handler.
func (h *syslogHandler) Delivered(ctx context.Context, from, to uint64) error {
	return h.c.delivered(ctx, from, to)
}

// encodeEntry is encode for a received entry.
func (h *syslogHandler) encodeEntry(s *state, e *record.Entry) (frame, buf, scratch []byte) {
	sc := h.s
	b := append(s.buf[:0], octetRoom[:]...)
	start := len(b)
	hdr := h.entryHeader(e)
	switch sc.format {
	case syslog.RFC5424:
		b = syslog.AppendRFC5424Header(b, &hdr)
		b = h.appendEntrySD(b, e)
		if msg := entryText(e); msg != "" {
			b = append(b, ' ')
			if sc.bom {
				b = append(b, "\ufeff"...)
			}
			b = appendUTF8(b, msg)
		}
	case syslog.RFC3164:
		b = appendUTF8(syslog.AppendRFC3164Header(b, &hdr), entryText(e))
		b = h.appendEntryParams(b, e)
	default: // syslog.Python
		b = appendUTF8(append(syslog.AppendPRI(b, hdr.Facility, hdr.Severity), sc.ident...), entryText(e))
		b = h.appendEntryParams(b, e)
	}
	return h.finish(s, b, start)
}

// entryHeader is the syslog header of a received entry.
func (h *syslogHandler) entryHeader(e *record.Entry) syslog.Header {
	sc := h.s
	if sl := e.Syslog; sl != nil && sl.Format != "raw" {
		hdr := syslog.Header{Facility: syslog.Facility(sl.Facility), Severity: syslog.Severity(sl.Severity),
			Time: e.Created, Hostname: sl.Hostname, AppName: sl.AppName, ProcID: sl.ProcID, MsgID: sl.MsgID}
		if hdr.Hostname == "" && sc.hostname != "" {
			hdr.Hostname = peerHost(e.Peer)
		}
		return hdr
	}
	hdr := syslog.Header{Facility: sc.facility, Severity: syslog.Severity(sc.severity(e.Level())),
		Time: e.Created, Hostname: sc.hostname, AppName: e.Name, ProcID: sc.procID}
	if host := peerHost(e.Peer); host != "" && sc.hostname != "" {
		hdr.Hostname = host
	}
	if e.Process != 0 {
		hdr.ProcID = strconv.Itoa(e.Process)
	}
	if hdr.AppName == "" {
		hdr.AppName = sc.app
	}
	return hdr
}

// peerHost is the host of a peer address ("192.0.2.7:50122"), or "" for
// a Unix peer or none.
func peerHost(peer string) string {
	host, _, err := net.SplitHostPort(peer)
	if err != nil {
		return ""
	}
	return host
}

// entryText is the message with the exception and stack appended on
// their own lines, as Python's Formatter.format writes them.
func entryText(e *record.Entry) string {
	msg := e.Msg
	for _, block := range [...]string{e.ExcText, e.StackInfo} {
		if block != "" {
			msg += "\n" + block
		}
	}
	return msg
}

// appendEntrySD appends the structured data of a received entry: the
// elements it came with, one of its attributes and source, and one of
// where it was received.
func (h *syslogHandler) appendEntrySD(b []byte, e *record.Entry) []byte {
	mark := len(b)
	relayed := false
	if e.Syslog != nil {
		for _, el := range e.Syslog.SD {
			b = syslog.AppendSDName(append(b, '['), el.ID)
			for _, p := range el.Params {
				b = syslog.AppendSDName(append(b, ' '), p.Name)
				b = append(syslog.AppendSDValue(append(b, '=', '"'), p.Value), '"')
			}
			if el.ID == forward.SDID { // a sender's numbers, or an earlier relay's peer
				relayed = true
				if !hasParam(el.Params, "peer") {
					b = h.appendPeer(b, e)
				}
			}
			b = append(b, ']')
		}
	}
	attrs := len(b)
	b = syslog.AppendSDName(append(b, '['), h.s.sdid)
	opened := len(b)
	if b = h.appendAttrsOf(b, e); len(b) == opened {
		b = b[:attrs] // no attributes: no element
	} else {
		b = append(b, ']')
	}
	if e.Peer != "" && !relayed {
		b = append(h.appendPeer(syslog.AppendSDName(append(b, '['), forward.SDID), e), ']')
	}
	if len(b) == mark {
		b = append(b, '-')
	}
	return b
}

// appendPeer appends the params peer and listener, if e was received.
func (h *syslogHandler) appendPeer(b []byte, e *record.Entry) []byte {
	if e.Peer == "" {
		return b
	}
	b = h.Param(b, "", "peer", slog.StringValue(e.Peer))
	return h.Param(b, "", "listener", slog.StringValue(e.Listener))
}

func hasParam(params []record.SDParam, name string) bool {
	for _, p := range params {
		if p.Name == name {
			return true
		}
	}
	return false
}

// appendEntryParams appends a received entry's attributes, source, peer
// and listener as text params.
func (h *syslogHandler) appendEntryParams(b []byte, e *record.Entry) []byte {
	return h.appendPeer(h.appendAttrsOf(b, e), e)
}

// appendAttrsOf appends e's attributes and its source, if known.
func (h *syslogHandler) appendAttrsOf(b []byte, e *record.Entry) []byte {
	for _, a := range e.Attrs {
		b = flat.Append(b, "", a, nil, nil, entrySink{h})
	}
	if e.Lineno > 0 {
		b = h.Param(b, "", slog.SourceKey, slog.StringValue(e.Pathname+":"+strconv.Itoa(e.Lineno)))
	}
	return b
}

// entrySink writes a received entry's attributes: none is the MSGID,
// which comes from the entry's syslog header.
type entrySink struct{ h *syslogHandler }

func (s entrySink) Param(b []byte, prefix, key string, v slog.Value) []byte {
	return s.h.Param(b, prefix, key, v)
}

func (entrySink) Taken(string) bool { return false }
