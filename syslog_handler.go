package netlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/netlog-go/netlog/internal/flat"
	"github.com/netlog-go/netlog/internal/relp"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// Framing is how syslog messages are delimited on a stream (RFC 6587).
type Framing string

// The framings of a syslog stream.
const (
	OctetCounting Framing = Framing(transport.OctetCounting) // "LEN SP MSG", RFC 5425/6587; the default for TCP and TLS
	LF            Framing = Framing(transport.LF)            // MSG LF; LF and NUL in a message become "#012" and "#000"
	NUL           Framing = Framing(transport.NUL)           // MSG NUL; likewise
)

// SyslogFormat is the layout of a syslog message.
type SyslogFormat string

// The syslog layouts.
const (
	RFC5424      SyslogFormat = SyslogFormat(syslog.RFC5424) // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
	RFC3164      SyslogFormat = SyslogFormat(syslog.RFC3164) // <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG, what syslog(3) sends
	PythonSyslog SyslogFormat = SyslogFormat(syslog.Python)  // <PRI>IDENT MSG NUL, byte for byte what Python's SysLogHandler sends
)

// Facility is a syslog facility, 0 to 23, with Python's numbers
// (logging.handlers.SysLogHandler.LOG_*).
type Facility int

// The facilities.
const (
	FacilityKern Facility = iota
	FacilityUser
	FacilityMail
	FacilityDaemon
	FacilityAuth
	FacilitySyslog
	FacilityLPR
	FacilityNews
	FacilityUUCP
	FacilityCron
	FacilityAuthPriv
	FacilityFTP
	FacilityNTP
	FacilitySecurity
	FacilityConsole
	FacilitySolarisCron
	FacilityLocal0
	FacilityLocal1
	FacilityLocal2
	FacilityLocal3
	FacilityLocal4
	FacilityLocal5
	FacilityLocal6
	FacilityLocal7
)

// String returns the facility's name as URLs write it: "local0".
func (f Facility) String() string { return syslog.Facility(f).String() }

// ParseFacility takes a facility's name ("local0") or number ("16").
func ParseFacility(s string) (Facility, error) {
	f, err := syslog.ParseFacility(s)
	return Facility(f), err
}

// Severity is a syslog severity, 0 (most severe) to 7.
type Severity int

// The severities.
const (
	SeverityEmerg Severity = iota
	SeverityAlert
	SeverityCrit
	SeverityErr
	SeverityWarning
	SeverityNotice
	SeverityInfo
	SeverityDebug
)

// String returns the severity's name: "warning".
func (s Severity) String() string { return syslog.Severity(s).String() }

// SeverityOf is the default mapping of levels to severities: Debug →
// debug, Info → info, Warn → warning, Error → err, Error+4 and above →
// crit.
func SeverityOf(l slog.Level) Severity { return Severity(syslog.SeverityOf(l)) }

// DefaultSDID is the SD-ID under which attributes travel in RFC 5424.
const DefaultSDID = "slog@32473"

// DefaultSyslogMessage is the largest UDP syslog message sent whole: RFC
// 5426's SHOULD for receivers.
const DefaultSyslogMessage = 2048

// SyslogOptions configure a syslog handler. Of the embedded Options,
// Codec must be empty, Name is the APP-NAME (RFC 3164's TAG), and
// MaxDatagram is the largest message sent over a datagram socket
// (default DefaultSyslogMessage).
type SyslogOptions struct {
	Options
	// Format is RFC5424 (the default, but for "local"), RFC3164 (the
	// default for "local": what syslog(3) sends and every local daemon
	// parses) or PythonSyslog (byte for byte what Python's SysLogHandler
	// sends).
	Format SyslogFormat
	// Facility is the facility. The zero value, FacilityKern, means
	// FacilityUser (Python's default): kernel messages are the kernel's.
	Facility Facility
	// MapSeverity maps a level to a severity (Python's mapPriority);
	// nil means SeverityOf.
	MapSeverity func(slog.Level) Severity
	// Hostname is the HOSTNAME; default os.Hostname(). The "local"
	// network sends none in RFC 3164, as syslog(3) does: the daemon adds
	// its own.
	Hostname string
	// ProcID is the PROCID; default the process id.
	ProcID string
	// Ident is prepended to the message in the Python format (Python's
	// SysLogHandler.ident).
	Ident string
	// NoNUL leaves out the NUL the Python format ends with (Python's
	// append_nul = False).
	NoNUL bool
	// SDID is the SD-ID of the element that carries the attributes in
	// RFC 5424; default DefaultSDID.
	SDID string
	// MsgIDKey names the top-level attribute whose value becomes the RFC
	// 5424 MSGID; default "msgid".
	MsgIDKey string
	// BOM puts the UTF-8 byte order mark before an RFC 5424 MSG.
	BOM bool
	// Framing delimits messages on a stream: OctetCounting (the default for
	// TCP and TLS), LF (the default for Unix stream sockets) or NUL. The
	// Python format ignores it: its NUL ends a message, as in Python.
	Framing Framing
	// RefuseOversize refuses a datagram message over MaxDatagram with
	// ErrTooLarge instead of truncating it at a UTF-8 boundary.
	RefuseOversize bool
	// RELPWindow is how many messages the "relp" network keeps
	// unacknowledged at most; it sends the next one as soon as an
	// acknowledgment makes room. 0 means 1,024.
	RELPWindow int
}

// syslogHandler sends records as syslog messages.
type syslogHandler struct {
	c     *core
	s     *syslogCore
	msgID string // MSGID from a WithAttrs attribute
	flat.Attrs
}

type syslogCore struct {
	format   syslog.Format
	facility syslog.Facility
	severity func(slog.Level) Severity
	hostname string
	app      string
	procID   string
	ident    string
	nul      bool
	sdid     string
	msgIDKey string
	bom      bool
	framing  transport.Framing // "" for datagrams and the Python format
	truncate int               // truncate datagram messages to this many bytes; 0 none
	value    flat.Value
}

// defaultLocalSyslog is where the local syslog daemon listens.
func defaultLocalSyslog() string {
	switch runtime.GOOS {
	case "darwin", "ios":
		return "/var/run/syslog"
	case "freebsd", "netbsd", "dragonfly":
		return "/var/run/log"
	}
	return "/dev/log"
}

// NewSyslogHandler returns a handler that sends each record as a syslog
// message. network is "local" (the system's daemon: a Unix datagram socket
// at address, default /dev/log, falling back to a Unix stream socket as
// Python does), "unixgram", "unix", "udp", "udp4", "udp6", "tcp", "tcp4",
// "tcp6", "tls" (TCP with TLS, RFC 5425), "relp" (rsyslog's RELP over
// TCP: each message counts as written only once the receiver has
// acknowledged it, and is sent again after a reconnect until it is; use
// it with Async so that callers do not wait for acknowledgments) or
// "relp+tls" (RELP over TLS, verified as for "tls"). The TLS networks
// need package netlog/tlsclient imported. Nothing is dialed until the
// first record. A bad address, facility, format, framing, SD-ID or
// Backoff is an error that names it.
func NewSyslogHandler(network, address string, opts *SyslogOptions) (Handler, error) {
	if opts == nil {
		opts = &SyslogOptions{}
	}
	if opts.Codec != "" {
		return nil, fmt.Errorf("netlog: syslog %s %s: Codec %q does not apply", network, address, opts.Codec)
	}
	if network == "local" && address == "" {
		address = defaultLocalSyslog()
	}
	c, err := newSyslog(network, address, opts)
	if err != nil {
		return nil, fmt.Errorf("netlog: syslog %s %s: %w", network, address, err)
	}
	return c, nil
}

func newSyslog(network, address string, opts *SyslogOptions) (*syslogHandler, error) {
	sc, err := newSyslogCore(network, opts)
	if err != nil {
		return nil, err
	}
	dial, stream, err := syslogDialer(network, address, opts)
	if err != nil {
		return nil, err
	}
	fallbacks, err := fallbacks(network, &opts.Options, func(a string) (dialFunc, error) {
		d, _, err := syslogDialer(network, a, opts)
		return d, err
	})
	if err != nil {
		return nil, err
	}
	cfg := transport.Config{Dial: dial, DialTimeout: opts.DialTimeout, WriteTimeout: opts.WriteTimeout,
		Backoff: opts.Backoff.internal(), Stream: stream,
		Name: address, Fallbacks: fallbacks, FailoverAfter: opts.FailoverAfter}
	var link transport.Sender
	if strings.HasPrefix(network, "relp") {
		if err = cfg.Normalize(); err == nil {
			link = relp.NewClient(cfg.Dialer(), cfg.WriteTimeout, opts.RELPWindow)
		}
	} else {
		link, err = transport.NewLink(cfg)
	}
	if err != nil {
		return nil, err
	}
	framing, err := transport.ParseFraming(string(opts.Framing))
	if err != nil {
		return nil, err
	}
	limit, maxFrame := opts.MaxDatagram, 0
	if limit == 0 {
		limit = DefaultSyslogMessage
	}
	switch {
	case strings.HasPrefix(network, "relp"): // RELP frames each message itself
	case stream && sc.format == syslog.Python: // its NUL ends a message, as in Python
	case stream && opts.Framing == "" && network == "unix":
		sc.framing = transport.LF
	case stream:
		sc.framing = framing
	case opts.RefuseOversize:
		maxFrame = limit
	default:
		sc.truncate = limit
	}
	dest := strings.Join(append([]string{address}, opts.Fallbacks...), ",")
	c, err := newCore(&opts.Options, "syslog "+network+" "+dest, link, maxFrame)
	if err != nil {
		return nil, err
	}
	c.severity = func(l slog.Level) int { return int(sc.severity(l)) }
	return &syslogHandler{c: c, s: sc}, nil
}

func newSyslogCore(network string, o *SyslogOptions) (*syslogCore, error) {
	sc := &syslogCore{
		ident: o.Ident, nul: !o.NoNUL, bom: o.BOM, severity: o.MapSeverity,
		hostname: o.Hostname, app: o.Name, procID: o.ProcID, sdid: o.SDID, msgIDKey: o.MsgIDKey,
	}
	var err error
	if sc.format, err = syslog.ParseFormat(string(o.Format)); err != nil {
		return nil, err
	}
	if o.Format == "" && network == "local" {
		sc.format = syslog.RFC3164
	}
	if sc.format == syslog.RFC5424 {
		sc.value.Mode = flat.SD
	} else if o.Sequence {
		return nil, fmt.Errorf("Sequence needs the %s format, not %s: only its structured data has room for the numbers", syslog.RFC5424, sc.format)
	}
	sc.facility = syslog.Facility(o.Facility)
	if o.Facility == FacilityKern {
		sc.facility = syslog.User
	}
	if o.Facility < 0 || o.Facility > FacilityLocal7 {
		return nil, fmt.Errorf("facility %d: want 0-23", o.Facility)
	}
	if sc.severity == nil {
		sc.severity = SeverityOf
	}
	if sc.hostname == "" {
		sc.hostname, _ = os.Hostname()
	}
	if network == "local" && sc.format == syslog.RFC3164 {
		sc.hostname = ""
	}
	if sc.app == "" {
		sc.app = programName
	}
	if sc.procID == "" {
		sc.procID = strconv.Itoa(pid)
	}
	if sc.sdid == "" {
		sc.sdid = DefaultSDID
	}
	if err := syslog.CheckSDID(sc.sdid); err != nil {
		return nil, err
	}
	if sc.msgIDKey == "" {
		sc.msgIDKey = "msgid"
	}
	return sc, nil
}

// syslogDialer returns how to connect to network/address and whether the
// connection is a stream.
func syslogDialer(network, address string, o *SyslogOptions) (dialFunc, bool, error) {
	if network == "local" {
		if errNoLocalSyslog != nil {
			return nil, false, errNoLocalSyslog
		}
		if err := transport.CheckAddress("unixgram", address, "unixgram"); err != nil {
			return nil, false, err
		}
		if o.TLS != nil {
			return nil, false, errors.New(`TLS applies only to the tls networks, not "local"`)
		}
		var d net.Dialer
		return func(ctx context.Context) (net.Conn, error) { return dialLocal(ctx, &d, address) }, false, nil
	}
	switch network {
	case "relp":
		dial, err := dialer("tcp", address, &o.Options, "tcp")
		return dial, true, err
	case "relp+tls":
		dial, err := dialer("tls", address, &o.Options, "tls")
		return dial, true, err
	}
	dial, err := dialer(network, address, &o.Options, "local", "unixgram", "unix", "udp", "udp4", "udp6", "tcp", "tcp4", "tcp6", "tls", "relp", "relp+tls")
	if err != nil {
		return nil, false, err
	}
	stream := network == "unix" || network == "tls" || network[:3] == "tcp"
	return dial, stream, nil
}

// dialLocal connects to a local daemon's datagram socket, or, if the
// socket is a stream socket, to that, as Python's SysLogHandler does; a
// stream connection then gets a trailing LF after each message.
func dialLocal(ctx context.Context, d *net.Dialer, path string) (net.Conn, error) {
	c, err := d.DialContext(ctx, "unixgram", path)
	if !errors.Is(err, syscall.EPROTOTYPE) {
		return c, err
	}
	c, err = d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	return &terminated{Conn: c}, nil
}

// terminated ends each write with LF, unless it already ends with LF or
// NUL: datagrams need no delimiter, a stream does.
type terminated struct {
	net.Conn
	buf []byte
}

func (t *terminated) Write(p []byte) (int, error) {
	if n := len(p); n > 0 && (p[n-1] == '\n' || p[n-1] == 0) {
		return t.Conn.Write(p)
	}
	t.buf = append(append(t.buf[:0], p...), '\n')
	n, err := t.Conn.Write(t.buf)
	return min(n, len(p)), err
}

// Enabled reports whether level is at or above the handler's Level.
func (h *syslogHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.c.level.Level()
}

// Handle formats r as one syslog message and writes it. An error means
// the record was not delivered; it is also counted in Stats.
func (h *syslogHandler) Handle(ctx context.Context, r slog.Record) error {
	s := getState()
	defer putState(s)
	var frame []byte
	frame, s.buf, s.scratch = h.encode(s, r)
	return h.c.send(ctx, frame, s.level)
}

var octetRoom [transport.OctetReserve]byte

// encode returns the framed message, and the buffers to keep.
func (h *syslogHandler) encode(s *state, r slog.Record) (frame, buf, scratch []byte) {
	sc := h.s
	e := &s.entry
	s.extras, s.level = h.c.fill(e, &r, s.extras[:0])
	b := append(s.buf[:0], octetRoom[:]...)
	start := len(b)
	hdr := syslog.Header{
		Facility: sc.facility, Severity: syslog.Severity(sc.severity(s.level)), Time: e.Created,
		Hostname: sc.hostname, AppName: sc.app, ProcID: sc.procID, MsgID: h.msgID,
	}
	switch sc.format {
	case syslog.RFC5424:
		if id, ok := h.recordMsgID(r); ok {
			hdr.MsgID = id
		}
		b = syslog.AppendRFC5424Header(b, &hdr)
		mark := len(b)
		b = syslog.AppendSDName(append(b, '['), sc.sdid)
		opened := len(b)
		if b = h.appendAttrs(b, s, r); len(b) == opened {
			b = b[:mark] // no attributes: no element
		} else {
			b = append(b, ']')
		}
		if b = h.c.appendSeqSD(b); len(b) == mark {
			b = append(b, '-') // no element: NILVALUE
		}
		if e.Msg != "" {
			b = append(b, ' ')
			if sc.bom {
				b = append(b, "\ufeff"...)
			}
			b = appendUTF8(b, e.Msg)
		}
	case syslog.RFC3164:
		b = appendUTF8(syslog.AppendRFC3164Header(b, &hdr), e.Msg)
		b = h.appendAttrs(b, s, r)
	default: // syslog.Python
		b = appendUTF8(append(syslog.AppendPRI(b, sc.facility, hdr.Severity), sc.ident...), e.Msg)
		b = h.appendAttrs(b, s, r)
	}
	return h.finish(s, b, start)
}

// finish truncates the message that starts at b[start] if it must be,
// ends and frames it; it returns the frame and the buffers to keep.
func (h *syslogHandler) finish(s *state, b []byte, start int) (frame, buf, scratch []byte) {
	sc := h.s
	if sc.truncate > 0 && len(b)-start > sc.truncate {
		b = truncateUTF8(b, start+sc.truncate)
		h.c.truncated.Add(1)
	}
	if sc.format == syslog.Python && sc.nul {
		b = append(b, 0)
	}
	if sc.framing == "" {
		return b[start:], b, s.scratch
	}
	frame, scratch = transport.Frame(sc.framing, b, start, s.scratch)
	return frame, b, scratch
}

// truncateUTF8 cuts b to at most n bytes, not inside a UTF-8 sequence.
func truncateUTF8(b []byte, n int) []byte {
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n]
}

func appendUTF8(b []byte, s string) []byte {
	if utf8.ValidString(s) {
		return append(b, s...)
	}
	for _, r := range s {
		b = utf8.AppendRune(b, r)
	}
	return b
}

// recordMsgID finds the MSGID attribute among r's top-level attributes.
func (h *syslogHandler) recordMsgID(r slog.Record) (id string, ok bool) {
	if len(h.Groups) > 0 {
		return "", false
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == h.s.msgIDKey {
			id, ok = a.Value.Resolve().String(), true
			return false
		}
		return true
	})
	return id, ok
}

// appendAttrs appends the preformatted attributes, the built-in
// replacements, the source (with AddSource) and r's attributes: SD params
// in RFC 5424, key=value text otherwise.
func (h *syslogHandler) appendAttrs(b []byte, s *state, r slog.Record) []byte {
	for _, a := range s.extras {
		b = flat.Append(b, "", a, nil, nil, h)
	}
	if e := &s.entry; h.c.addSource && e.Lineno > 0 {
		b = h.Param(b, "", slog.SourceKey, slog.StringValue(e.Pathname+":"+strconv.Itoa(e.Lineno)))
	}
	return h.AppendRecord(b, r, h.c.replace, h)
}

// Taken reports whether a top-level attribute is the MSGID.
func (h *syslogHandler) Taken(key string) bool {
	return key == h.s.msgIDKey && h.s.format == syslog.RFC5424
}

// Param appends one attribute: ` name="value"` in RFC 5424 structured
// data (the name held to MaxSDName), ` name=value` in text.
func (h *syslogHandler) Param(b []byte, prefix, key string, v slog.Value) []byte {
	b = append(b, ' ')
	if h.s.value.Mode != flat.SD {
		b = append(append(b, prefix...), key...)
		return record.AppendValue(h.s.value, append(b, '='), v)
	}
	start := len(b)
	if prefix != "" {
		b = syslog.AppendSDName(b, prefix)
	}
	b = syslog.AppendSDName(b, key)
	if len(b)-start > syslog.MaxSDName {
		b = b[:start+syslog.MaxSDName]
	}
	return append(record.AppendValue(h.s.value, append(b, '=', '"'), v), '"')
}

// WithAttrs returns a handler whose records carry attrs, formatted once now.
func (h *syslogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	for _, a := range attrs {
		if h.Prefix == "" && h.Taken(a.Key) {
			h2.msgID = a.Value.Resolve().String()
		}
	}
	h2.Attrs = h.With(attrs, h.c.replace, h)
	return &h2
}

// WithGroup returns a handler whose later attributes are named "name.key".
func (h *syslogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.Attrs = h.Group(name)
	return &h2
}

// Stats returns the handler's counters.
func (h *syslogHandler) Stats() Stats { return h.c.stats() }

// Close: see socketHandler.Close.
func (h *syslogHandler) Close(ctx context.Context) error { return h.c.close(ctx) }

// Flush: see socketHandler.Flush.
func (h *syslogHandler) Flush(ctx context.Context) error { return h.c.flush(ctx) }
