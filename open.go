package netlog

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netlog-go/netlog/internal/spool"
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
//	smtp://user:pass@host:port NewSMTPHandler with STARTTLS
//	smtps://user:pass@host:port NewSMTPHandler with implicit TLS
//	stderr:// or stdout://     slog's text handler on the console; ?format=json for slog's JSON handler
//
// and any scheme a program added with RegisterScheme.
//
// Query parameters set options; opts, if not nil, supplies the rest.
// opts is a set of defaults: its fields that do not apply to the scheme
// (CAFile for tcp://, Async for smtp://, …) are ignored, so that one
// value serves whatever URL a program is given; but a query parameter
// that does not apply is an error. docs/urls.md lists the parameters of
// each scheme. An unknown scheme or parameter, a bad value, a host where
// a path belongs or the reverse, is an error that names it.
func Open(rawURL string, opts *Options) (Handler, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("netlog: URL: %w", redact(err))
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if open, ok := registered(u.Scheme); ok {
		return open(u, &o)
	}
	p := &params{v: u.Query(), used: map[string]bool{}}
	var h Handler
	network, _ := strings.CutPrefix(u.Scheme, "syslog+")
	switch u.Scheme {
	case "tcp", "tcp4", "tcp6", "tls", "udp", "udp4", "udp6", "unix", "unixgram":
		p.common(&o)
		h, err = openSocket(u, p, o)
	case "syslog", "syslog+udp", "syslog+tcp", "syslog+tls", "syslog+relp", "syslog+relp+tls", "syslog+unix", "syslog+unixgram":
		if u.Scheme == "syslog" {
			network = "local"
		}
		p.common(&o)
		h, err = openSyslog(u, network, p, o)
	case "smtp", "smtps":
		h, err = openSMTP(u, p, o)
	case "stderr", "stdout":
		h, err = openConsole(u, p, o)
	case "":
		return nil, fmt.Errorf("netlog: URL %q has no scheme (tcp://, udp://, syslog://, smtp://, stderr://, …)", u.Redacted())
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
		"smtp", "smtps", "stderr", "stdout", "":
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

// address is the URL's host:port, or its path for a Unix socket.
func address(u *url.URL, unix bool) (string, error) {
	switch {
	case u.Opaque != "":
		return "", fmt.Errorf("%q is not an address: write %s://host:port or %s:///path", u.Opaque, u.Scheme, u.Scheme)
	case u.User != nil && !strings.HasPrefix(u.Scheme, "smtp"):
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

func openSocket(u *url.URL, p *params, o Options) (Handler, error) {
	addr, err := address(u, strings.HasPrefix(u.Scheme, "unix"))
	if err != nil {
		return nil, err
	}
	if c := p.str("codec"); c != "" {
		o.Codec = Codec(c)
	}
	if u.Scheme == "tls" {
		p.tls(&o)
	} else {
		o.TLS, o.CAFile = nil, ""
	}
	datagram := u.Scheme == "unixgram" || strings.HasPrefix(u.Scheme, "udp")
	if datagram {
		if n := p.int("max-datagram"); n != 0 {
			o.MaxDatagram = n
		}
	}
	if err := p.done(u.Scheme); err != nil {
		return nil, err
	}
	if datagram {
		return NewDatagramHandler(u.Scheme, addr, &o)
	}
	return NewSocketHandler(u.Scheme, addr, &o)
}

func openSyslog(u *url.URL, network string, p *params, o Options) (Handler, error) {
	addr, err := address(u, network == "local" || strings.HasPrefix(network, "unix"))
	if err != nil {
		return nil, err
	}
	o.Codec, o.MaxDatagram = "", 0
	if !strings.HasSuffix(network, "tls") {
		o.TLS, o.CAFile = nil, ""
	}
	so := SyslogOptions{Options: o, Format: SyslogFormat(p.str("format")), Facility: p.facility("facility"),
		Hostname: p.str("hostname"), ProcID: p.str("procid"), SDID: p.str("sdid"), MsgIDKey: p.str("msgid-key"),
		Framing: Framing(p.str("framing")), BOM: p.bool("bom"),
		RefuseOversize: p.bool("refuse-oversize")}
	so.MaxDatagram = p.int("max-message")
	if strings.HasPrefix(network, "relp") {
		so.RELPWindow = p.int("window")
		relpRetries(p, &so.Options)
	}
	if strings.HasSuffix(network, "tls") {
		p.tls(&so.Options)
	}
	if err := p.done(u.Scheme); err != nil {
		return nil, err
	}
	return NewSyslogHandler(network, addr, &so)
}

// relpRetries applies relp-retries, how often a message the RELP server
// refused is sent again before it is given up (0: never).
func relpRetries(p *params, o *Options) {
	if !p.v.Has("relp-retries") {
		return
	}
	r := p.int("relp-retries")
	if o.Async == nil {
		p.fail("relp-retries", p.v.Get("relp-retries"), errors.New("applies only with async=true"))
		return
	}
	a := *o.Async
	a.Retries = r
	if r == 0 {
		a.Retries = -1 // Async's zero means the default
	}
	o.Async = &a
}

func openSMTP(u *url.URL, p *params, o Options) (Handler, error) {
	if u.Host == "" {
		return nil, errors.New("missing mail host")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("path %q does not apply to %s", u.Path, u.Scheme)
	}
	p.basic(&o)
	if d := p.duration("dial-timeout"); d != 0 {
		o.DialTimeout = d
	}
	o.Codec, o.WriteTimeout, o.MaxDatagram, o.Async = "", 0, 0, nil
	password, env := "", p.str("password-env")
	if u.User != nil {
		password, _ = u.User.Password()
	}
	so := SMTPOptions{Options: o, From: p.str("from"), Subject: p.str("subject"),
		PerRecord: p.bool("per-record"), Context: p.int("context"), MaxEmails: p.int("max-emails"),
		Per: p.duration("per"), Queue: p.int("queue")}
	p.tls(&so.Options)
	for _, to := range p.list("to") {
		so.To = append(so.To, strings.Split(to, ",")...)
	}
	switch {
	case so.From == "":
		return nil, errors.New("missing from= (the sender's address)")
	case len(so.To) == 0:
		return nil, errors.New("missing to= (one or more recipients, comma-separated or repeated)")
	}
	if t := p.level("trigger"); t != nil {
		so.Trigger = t
	}
	so.Security = STARTTLS
	if u.Scheme == "smtps" {
		so.Security = ImplicitTLS
	} else if p.bool("plaintext") {
		so.Security = Plaintext
	}
	if err := p.done(u.Scheme); err != nil {
		return nil, err
	}
	if u.User != nil {
		so.Username, so.Password = u.User.Username(), password
	}
	if env != "" {
		pw, ok := os.LookupEnv(env)
		if !ok {
			return nil, fmt.Errorf("password-env: environment variable %s is not set", env)
		}
		so.Password = pw
	}
	return NewSMTPHandler(u.Host, &so)
}

// params reads a URL's query, remembering the first bad value and which
// keys were read, so that the rest can be reported as unknown.
type params struct {
	v    url.Values
	used map[string]bool
	err  error
}

// str returns the parameter's value; given twice, it is an error.
func (p *params) str(key string) string {
	p.used[key] = true
	vs := p.v[key]
	if len(vs) > 1 {
		p.fail(key, strings.Join(vs, ","), errors.New("given more than once"))
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// list returns every value of a parameter that may repeat.
func (p *params) list(key string) []string {
	p.used[key] = true
	return p.v[key]
}

func (p *params) fail(key, value string, err error) {
	if p.err == nil {
		p.err = fmt.Errorf("parameter %s=%q: %w", key, value, err)
	}
}

func (p *params) bool(key string) bool {
	s := p.str(key)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.fail(key, s, errors.New("want true or false"))
	}
	return b
}

func (p *params) int(key string) int {
	s := p.str(key)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange) && n > 0:
		p.fail(key, s, errTooLarge)
	case err != nil || n < 0:
		p.fail(key, s, errors.New("want a whole number, 0 or more"))
	}
	return n
}

// errTooLarge refuses a number that does not fit an int here (above
// 2147483647 on a 32-bit platform) rather than wrapping it.
var errTooLarge = fmt.Errorf("too large for %s/%s, where the most is %d", runtime.GOOS, runtime.GOARCH, math.MaxInt)

func (p *params) duration(key string) time.Duration {
	s := p.str(key)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		p.fail(key, s, errors.New("want a duration such as 500ms or 2s"))
	}
	return d
}

// size reads a byte count: a whole number with an optional KiB, MiB or
// GiB (or K, M, G) suffix.
func (p *params) size(key string) int {
	s := p.str(key)
	if s == "" {
		return 0
	}
	num, mult := s, 1
	for i, suffixes := range [][]string{{"KiB", "K"}, {"MiB", "M"}, {"GiB", "G"}} {
		for _, suf := range suffixes {
			if n, ok := strings.CutSuffix(s, suf); ok && num == s {
				num, mult = n, 1<<(10*(i+1))
			}
		}
	}
	n, err := strconv.Atoi(num)
	switch {
	case errors.Is(err, strconv.ErrRange) && n > 0, err == nil && n > math.MaxInt/mult:
		p.fail(key, s, errTooLarge)
	case err != nil || n < 0:
		p.fail(key, s, errors.New("want a size such as 65536, 64KiB or 16MiB"))
	}
	return n * mult
}

func (p *params) level(key string) slog.Leveler {
	s := p.str(key)
	if s == "" {
		return nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		if n, nerr := strconv.Atoi(s); nerr == nil {
			return slog.Level(n)
		}
		p.fail(key, s, errors.New("want debug, info, warn, error (with an optional +N or -N) or a number"))
	}
	return l
}

// tls reads the parameters of a TLS client into o.
func (p *params) tls(o *Options) {
	o.CAFile = p.str("ca")
	if p.bool("insecure-skip-verify") {
		o.TLS = &tls.Config{InsecureSkipVerify: true}
	}
}

// basic reads the parameters every scheme takes into o.
func (p *params) basic(o *Options) {
	if l := p.level("level"); l != nil {
		o.Level = l
	}
	if n := p.str("name"); n != "" {
		o.Name = n
	}
}

// common reads the parameters of every network handler into o.
func (p *params) common(o *Options) {
	p.basic(o)
	if d := p.duration("dial-timeout"); d != 0 {
		o.DialTimeout = d
	}
	if d := p.duration("write-timeout"); d != 0 {
		o.WriteTimeout = d
	}
	async := p.bool("async")
	a := Async{MaxRecords: p.int("buffer"), MaxBytes: p.size("buffer-bytes"), BlockTimeout: p.duration("block-timeout")}
	if s := p.str("overflow"); s != "" {
		o, err := spool.ParseOverflow(s)
		if err != nil {
			p.fail("overflow", s, err)
		}
		a.Overflow = Overflow(o)
	}
	switch {
	case p.v.Has("async") && !async: // async=false
		o.Async = nil
	case async || o.Async != nil: // asked for by the URL or by the caller's Options
		if o.Async != nil { // the URL's bounds over the caller's
			a = mergeAsync(*o.Async, a, p.v.Has("overflow"))
		}
		o.Async = &a
	default:
		for _, k := range []string{"buffer", "buffer-bytes", "overflow", "block-timeout"} {
			if p.v.Has(k) {
				p.fail(k, p.v.Get(k), errors.New("applies only with async=true (or Options.Async)"))
			}
		}
	}
}

// mergeAsync lays the URL's settings over base.
func mergeAsync(base, u Async, overflow bool) Async {
	if u.MaxRecords != 0 {
		base.MaxRecords = u.MaxRecords
	}
	if u.MaxBytes != 0 {
		base.MaxBytes = u.MaxBytes
	}
	if u.BlockTimeout != 0 {
		base.BlockTimeout = u.BlockTimeout
	}
	if overflow {
		base.Overflow = u.Overflow
	}
	return base
}

// done returns the first bad value, or else names a parameter the scheme
// does not take.
func (p *params) done(scheme string) error {
	if p.err != nil {
		return p.err
	}
	var keys []string
	for k := range p.v {
		if !p.used[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	return fmt.Errorf("unknown parameter %q for %s", keys[0], scheme)
}

// facility reads a facility's name or number.
func (p *params) facility(key string) Facility {
	s := p.str(key)
	if s == "" {
		return 0
	}
	f, err := ParseFacility(s)
	if err == nil && f == FacilityKern {
		err = errors.New("kern is the kernel's own facility")
	}
	if err != nil {
		p.fail(key, s, err)
	}
	return f
}
