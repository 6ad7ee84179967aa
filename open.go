package netlog

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/internal/urlquery"
)

// Open returns the handler for a destination named by a URL:
//
//	tcp://host:port            NewSocketHandler (also tcp4, tcp6)
//	tls://host:port            NewSocketHandler over verified TLS
//	unix:///path               NewSocketHandler on a Unix stream socket
//	udp://host:port            NewDatagramHandler (also udp4, udp6)
//	unixgram:///path           NewDatagramHandler on a Unix datagram socket
//	syslog:///dev/log          NewSyslogHandler "local" (the path may be left out)
//	syslog+udp://host:port     NewSyslogHandler over UDP; likewise syslog+tcp,
//	syslog+tls://host:port     syslog+tls, syslog+relp, syslog+unix:///path, syslog+unixgram:///path
//	stderr:// or stdout://     slog's text handler on the console; ?format=json for slog's JSON handler
//
// and any scheme a program added with RegisterScheme, or a package it
// imports added: smtp:// and smtps:// come with
// github.com/netlog-go/netlog/smtp (import _ "github.com/netlog-go/netlog/smtp"),
// kafka:// with …/netlog/kafka, otlp+http:// and otlp+https:// with
// …/netlog/otlp.
//
// A network scheme's host may be a comma-separated list,
// tcp://a:9020,b:9020: the hosts after the first are its fallbacks
// (Options.Fallbacks, which the list replaces), and failover-after sets
// Options.FailoverAfter.
//
// Query parameters set options; opts, if not nil, supplies the rest.
// opts is a set of defaults: its fields that do not apply to the scheme
// (TLS for tcp://, Codec for syslog://, …) are ignored, so that one
// value serves whatever URL a program is given; but a query parameter
// that does not apply is an error. docs/urls.md lists the parameters of
// each scheme. An unknown scheme or parameter, a bad value, a host where
// a path belongs or the reverse, is an error that names it.
func Open(rawURL string, opts *Options) (Handler, error) {
	rawURL, fallbacks := cutHostList(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("netlog: URL: %w", redact(err))
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if fallbacks != nil {
		o.Fallbacks = fallbacks
	}
	if open, ok := registered(u.Scheme); ok {
		return open(u, &o)
	}
	p := urlquery.New(u.Query())
	var h Handler
	network, _ := strings.CutPrefix(u.Scheme, "syslog+")
	switch u.Scheme {
	case "tcp", "tcp4", "tcp6", "tls", "udp", "udp4", "udp6", "unix", "unixgram":
		commonParams(p, &o)
		h, err = openSocket(u, p, o)
	case "syslog", "syslog+udp", "syslog+tcp", "syslog+tls", "syslog+relp", "syslog+relp+tls", "syslog+unix", "syslog+unixgram":
		if u.Scheme == "syslog" {
			network = "local"
		}
		commonParams(p, &o)
		h, err = openSyslog(u, network, p, o)
	case "stderr", "stdout":
		h, err = openConsole(u, p, o)
	case "":
		return nil, fmt.Errorf("netlog: URL %q has no scheme (tcp://, udp://, syslog://, stderr://, …)", u.Redacted())
	case "smtp", "smtps", "kafka", "otlp+http", "otlp+https":
		return nil, fmt.Errorf("netlog: URL %q: scheme %q needs its package: import _ \"github.com/netlog-go/netlog/%s\"", u.Redacted(), u.Scheme, schemePackage(u.Scheme))
	default:
		return nil, fmt.Errorf("netlog: URL %q: unknown scheme %q", u.Redacted(), u.Scheme)
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) || strings.HasPrefix(err.Error(), "netlog: ") {
			return nil, err // names the destination already
		}
		return nil, fmt.Errorf("netlog: URL %q: %w", u.Redacted(), err)
	}
	return h, nil
}

// Opener makes a Handler for a URL of a scheme added by RegisterScheme.
// opts holds the defaults given to Open (never nil); the Opener reads
// the URL's query itself.
type Opener func(u *url.URL, opts *Options) (Handler, error)

var schemes struct {
	sync.RWMutex
	m map[string]Opener
}

// schemePackage names the package of netlog's that registers scheme.
func schemePackage(scheme string) string {
	name, _, _ := strings.Cut(strings.TrimSuffix(scheme, "s"), "+")
	return name
}

// RegisterScheme makes Open hand URLs of scheme to open, so that a
// program's own destinations can be named by the same setting as the
// built-in ones. It panics if the scheme is built in or already
// registered, as database/sql.Register does for a driver name.
func RegisterScheme(scheme string, open Opener) {
	schemes.Lock()
	defer schemes.Unlock()
	if builtin(scheme) || schemes.m[scheme] != nil || open == nil {
		panic("netlog: RegisterScheme: scheme " + strconv.Quote(scheme) + " is taken, or open is nil")
	}
	if schemes.m == nil {
		schemes.m = map[string]Opener{}
	}
	schemes.m[scheme] = open
}

func registered(scheme string) (Opener, bool) {
	schemes.RLock()
	defer schemes.RUnlock()
	open, ok := schemes.m[scheme]
	return open, ok
}

// builtin reports whether Open knows scheme itself.
func builtin(scheme string) bool {
	switch scheme {
	case "tcp", "tcp4", "tcp6", "tls", "udp", "udp4", "udp6", "unix", "unixgram",
		"syslog", "syslog+udp", "syslog+tcp", "syslog+tls", "syslog+relp", "syslog+relp+tls", "syslog+unix", "syslog+unixgram",
		"stderr", "stdout", "":
		return true
	}
	return false
}

// redact keeps a password out of url.Parse's error, which quotes the URL
// as given.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactRaw(ue.URL)
	}
	return err
}

// redactRaw masks the password of scheme://user:password@host… in a
// string that may not parse as a URL.
func redactRaw(s string) string {
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	start := len(s) - len(rest)
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	at := strings.LastIndexByte(rest, '@')
	colon := strings.IndexByte(rest, ':')
	if at < 0 || colon < 0 || colon > at {
		return s
	}
	return s[:start+colon+1] + "xxxxx" + s[start+at:]
}

// cutHostList takes the fallbacks out of a built-in scheme's
// comma-separated host list, which url.Parse would refuse or misread
// (IPv6 literals, a port missing from one), and leaves the first host in
// its place. Other schemes keep theirs: kafka:// takes a broker list.
func cutHostList(rawURL string) (string, []string) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok || !builtin(scheme) {
		return rawURL, nil
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	hosts := strings.Split(rest[:end], ",")
	if len(hosts) == 1 {
		return rawURL, nil
	}
	return scheme + "://" + hosts[0] + rest[end:], hosts[1:]
}

// address is the URL's host:port, or its path for a Unix socket.
func address(u *url.URL, unix bool) (string, error) {
	switch {
	case u.Opaque != "":
		return "", fmt.Errorf("%q is not an address: write %s://host:port or %s:///path", u.Opaque, u.Scheme, u.Scheme)
	case u.User != nil:
		return "", fmt.Errorf("user %q does not apply to %s", u.User.Username(), u.Scheme)
	case unix && u.Host != "":
		return "", fmt.Errorf("host %q: a Unix socket takes a path (%s:///path)", u.Host, u.Scheme)
	case unix:
		return u.Path, nil
	case u.Path != "" && u.Path != "/":
		return "", fmt.Errorf("path %q does not apply to %s", u.Path, u.Scheme)
	case u.Host == "":
		return "", errors.New("missing host:port")
	}
	return u.Host, nil
}

func openSocket(u *url.URL, p *urlquery.Query, o Options) (Handler, error) {
	addr, err := address(u, strings.HasPrefix(u.Scheme, "unix"))
	if err != nil {
		return nil, err
	}
	if c := p.Str("codec"); c != "" {
		o.Codec = Codec(c)
	}
	if u.Scheme != "tls" {
		o.TLS = nil
	} else if err := tlsParams(p, &o); err != nil {
		return nil, err
	}
	datagram := u.Scheme == "unixgram" || strings.HasPrefix(u.Scheme, "udp")
	if datagram {
		if n := p.Int("max-datagram"); n != 0 {
			o.MaxDatagram = n
		}
	}
	if err := p.Done(u.Scheme); err != nil {
		return nil, err
	}
	if datagram {
		return NewDatagramHandler(u.Scheme, addr, &o)
	}
	return NewSocketHandler(u.Scheme, addr, &o)
}

func openSyslog(u *url.URL, network string, p *urlquery.Query, o Options) (Handler, error) {
	addr, err := address(u, network == "local" || strings.HasPrefix(network, "unix"))
	if err != nil {
		return nil, err
	}
	o.Codec, o.MaxDatagram = "", 0
	if !strings.HasSuffix(network, "tls") {
		o.TLS = nil
	} else if err := tlsParams(p, &o); err != nil {
		return nil, err
	}
	so := SyslogOptions{Options: o, Format: SyslogFormat(p.Str("format")), Facility: facilityParams(p, "facility"),
		Hostname: p.Str("hostname"), ProcID: p.Str("procid"), SDID: p.Str("sdid"), MsgIDKey: p.Str("msgid-key"),
		Framing: Framing(p.Str("framing")), BOM: p.Bool("bom"),
		RefuseOversize: p.Bool("refuse-oversize")}
	so.MaxDatagram = p.Int("max-message")
	if !p.Has("seq") && so.Format != RFC5424 && (so.Format != "" || network == "local") {
		so.Sequence = false // the defaults' Sequence, where the format has no room for it
	}
	if strings.HasPrefix(network, "relp") {
		so.RELPWindow = p.Int("window")
		relpRetries(p, &so.Options)
	}
	if err := p.Done(u.Scheme); err != nil {
		return nil, err
	}
	return NewSyslogHandler(network, addr, &so)
}

// seqParam applies seq (Options.Sequence).
func seqParam(p *urlquery.Query, o *Options) {
	if p.Has("seq") {
		o.Sequence = p.Bool("seq")
	}
}

// relpRetries applies relp-retries, how often a message the RELP server
// refused is sent again before it is given up (0: never).
func relpRetries(p *urlquery.Query, o *Options) {
	if !p.Has("relp-retries") {
		return
	}
	r := p.Int("relp-retries")
	if o.Async == nil {
		p.Fail("relp-retries", p.Get("relp-retries"), errors.New("applies only with async=true"))
		return
	}
	a := *o.Async
	a.Retries = r
	if r == 0 {
		a.Retries = -1 // Async's zero means the default
	}
	o.Async = &a
}

// basicParams reads the parameters every destination takes, SMTP's
// too, into o: level, name and dial-timeout.
func basicParams(p *urlquery.Query, o *Options) {
	if l := p.Level("level"); l != nil {
		o.Level = l
	}
	if n := p.Str("name"); n != "" {
		o.Name = n
	}
	if d := p.Duration("dial-timeout"); d != 0 {
		o.DialTimeout = d
	}
}

// common reads the parameters of every network handler into o.
func commonParams(p *urlquery.Query, o *Options) {
	basicParams(p, o)
	seqParam(p, o)
	if d := p.Duration("write-timeout"); d != 0 {
		o.WriteTimeout = d
	}
	if p.Has("failover-after") {
		o.FailoverAfter = p.Int("failover-after")
		if len(o.Fallbacks) == 0 {
			p.Fail("failover-after", p.Get("failover-after"), errors.New("applies only with a host list (host:port,host:port) or Options.Fallbacks"))
		}
	}
	a := Async{MaxRecords: p.Int("buffer"), MaxBytes: p.Size("buffer-bytes"), BlockTimeout: p.Duration("block-timeout"),
		Dir: p.Str("spool"), MemoryFirst: p.Size("memory-first"), Fsync: fsyncParam(p)}
	async := p.Bool("async") || a.Dir != "" // a durable queue is an async one
	if s := p.Str("overflow"); s != "" {
		o, err := spool.ParseOverflow(s)
		if err != nil {
			p.Fail("overflow", s, err)
		}
		a.Overflow = Overflow(o)
	}
	switch {
	case p.Has("async") && !async: // async=false
		o.Async = nil
	case async || o.Async != nil: // asked for by the URL or by the caller's Options
		if o.Async != nil { // the URL's bounds over the caller's
			a = mergeAsync(*o.Async, a, p)
		}
		o.Async = &a
		for _, k := range []string{"fsync", "memory-first"} {
			if p.Has(k) && a.Dir == "" {
				p.Fail(k, p.Get(k), errors.New("applies only with spool=DIR (or Async.Dir)"))
			}
		}
	default:
		for _, k := range []string{"buffer", "buffer-bytes", "overflow", "block-timeout", "fsync", "memory-first"} {
			if p.Has(k) {
				p.Fail(k, p.Get(k), errors.New("applies only with async=true (or Options.Async)"))
			}
		}
	}
}

// mergeAsync lays the URL's settings over base; those whose zero value
// is a setting (overflow=drop-lowest, fsync=batch) when p has them.
func mergeAsync(base, u Async, p *urlquery.Query) Async {
	if u.MaxRecords != 0 {
		base.MaxRecords = u.MaxRecords
	}
	if u.MaxBytes != 0 {
		base.MaxBytes = u.MaxBytes
	}
	if u.BlockTimeout != 0 {
		base.BlockTimeout = u.BlockTimeout
	}
	if p.Has("overflow") {
		base.Overflow = u.Overflow
	}
	if u.Dir != "" {
		base.Dir = u.Dir
	}
	if p.Has("fsync") {
		base.Fsync = u.Fsync
	}
	if u.MemoryFirst != 0 {
		base.MemoryFirst = u.MemoryFirst
	}
	return base
}

// fsyncParam reads fsync=batch|never|DURATION.
func fsyncParam(p *urlquery.Query) time.Duration {
	switch s := p.Str("fsync"); s {
	case "", "batch":
		return 0
	case "never":
		return FsyncNever
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			p.Fail("fsync", s, errors.New("want batch, never or a positive duration such as 10ms"))
		}
		return d
	}
}

// facility reads a facility's name or number.
func facilityParams(p *urlquery.Query, key string) Facility {
	s := p.Str(key)
	if s == "" {
		return 0
	}
	f, err := ParseFacility(s)
	if err == nil && f == FacilityKern {
		err = errors.New("kern is the kernel's own facility")
	}
	if err != nil {
		p.Fail(key, s, err)
	}
	return f
}
