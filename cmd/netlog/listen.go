package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/netlog-go/netlog/internal/tlsconf"
	"github.com/netlog-go/netlog/receive"
)

// listenerKind is one kind of listener of netlog serve, named like its
// flag, and how to serve it.
type listenerKind struct {
	name    string // the flag, and a [[listener]]'s kind
	label   string // what it takes, in "listening on" lines: "syslog+tls"
	network string
	tls     bool
	stream  func(*receive.Server, context.Context, net.Listener) error
	packet  func(*receive.Server, context.Context, net.PacketConn) error
}

// listenerKinds are netlog serve's listeners, in the order they open.
var listenerKinds = []listenerKind{
	{"tcp", "tcp", "tcp", false, (*receive.Server).ServeStream, nil},
	{"tls", "tls", "tcp", true, (*receive.Server).ServeStream, nil},
	{"udp", "udp", "udp", false, nil, (*receive.Server).ServePacket},
	{"unix", "unix", "unix", false, (*receive.Server).ServeStream, nil},
	{"unixgram", "unixgram", "unixgram", false, nil, (*receive.Server).ServePacket},
	{"syslog-udp", "syslog+udp", "udp", false, nil, (*receive.Server).ServeSyslogPacket},
	{"syslog-tcp", "syslog+tcp", "tcp", false, (*receive.Server).ServeSyslogStream, nil},
	{"syslog-tls", "syslog+tls", "tcp", true, (*receive.Server).ServeSyslogStream, nil},
	{"syslog-unix", "syslog+unixgram", "unixgram", false, nil, (*receive.Server).ServeSyslogPacket},
	{"relp", "relp", "tcp", false, (*receive.Server).ServeRELP, nil},
	{"relp-tls", "relp+tls", "tcp", true, (*receive.Server).ServeRELP, nil},
}

func kindNamed(name string) (listenerKind, bool) {
	for _, k := range listenerKinds {
		if k.name == name {
			return k, true
		}
	}
	return listenerKind{}, false
}

func kindNames() []string {
	var names []string
	for _, k := range listenerKinds {
		names = append(names, k.name)
	}
	return names
}

// listenerSpecs are the listeners f names: its flags' (sharing --tls-cert,
// --tls-key and --tls-client-ca), then its file's [[listener]] tables.
func (f *serveFlags) listenerSpecs() []listenerSpec {
	addrs := map[string]string{
		"tcp": f.tcp, "tls": f.tls, "udp": f.udp, "unix": f.unix, "unixgram": f.unixgram,
		"syslog-udp": f.syslogUDP, "syslog-tcp": f.syslogTCP, "syslog-tls": f.syslogTLS, "syslog-unix": f.syslogUnix,
		"relp": f.relp, "relp-tls": f.relpTLS,
	}
	var specs []listenerSpec
	for _, k := range listenerKinds {
		if addrs[k.name] == "" {
			continue
		}
		s := listenerSpec{kind: k.name, addr: addrs[k.name],
			where: func(key string) string { return f.where(k.name, key) }}
		if k.tls {
			s.cert, s.key, s.clientCA = f.tlsCert, f.tlsKey, f.tlsClientCA
		}
		specs = append(specs, s)
	}
	return append(specs, f.listeners...)
}

// where names a flag's setting in an error: the flag, or where a
// --config file set it. key is a [[listener]] key: "address" is the
// listener's own flag.
func (f *serveFlags) where(name, key string) string {
	if key != "address" {
		name = key
	}
	if at, ok := f.from[name]; ok {
		return at
	}
	return "--" + name
}

// prepared is a listener checked and ready to open.
type prepared struct {
	listenerSpec
	listenerKind
	tlsConfig *tls.Config
}

// prepare checks every listener of specs without opening it: that its
// address parses and its TLS files load. It reports every problem.
func prepare(specs []listenerSpec) ([]prepared, error) {
	var ps []prepared
	var errs []error
	for _, s := range specs {
		p := prepared{listenerSpec: s}
		p.listenerKind, _ = kindNamed(s.kind)
		if err := checkAddress(p.network, s.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.where("address"), err))
			continue
		}
		if p.tls {
			var err error
			if p.tlsConfig, err = serverTLS(s); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		ps = append(ps, p)
	}
	return ps, errors.Join(errs...)
}

// checkAddress checks that addr is an address network can listen on,
// without listening: a host and a port for IP, a path for Unix sockets.
func checkAddress(network, addr string) error {
	if network == "unix" || network == "unixgram" || strings.HasPrefix(addr, systemdPrefix) {
		return nil // any path or name; listening says if it cannot be had
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if _, err := net.LookupPort(network, port); err != nil {
		return err
	}
	return nil
}

// serverTLS is a TLS listener's configuration: TLS 1.2 at least, and
// client certificates required and verified against its client CA if
// it has one.
func serverTLS(s listenerSpec) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(s.cert, s.key)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", s.where("tls-cert"), s.where("tls-key"), err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if s.clientCA != "" {
		if cfg.ClientCAs, err = tlsconf.LoadCAs(s.clientCA); err != nil {
			return nil, fmt.Errorf("%s: %w", s.where("tls-client-ca"), err)
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// open opens every listener of ps; on error it returns those already
// open so that the caller closes them.
func open(ps []prepared, srv *receive.Server) ([]listener, error) {
	var ls []listener
	for _, p := range ps {
		l, err := p.listen(srv)
		if err != nil {
			return ls, fmt.Errorf("%s: %w", p.where("address"), err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// listen opens p's socket, or takes the one systemd passed.
func (p prepared) listen(srv *receive.Server) (listener, error) {
	name, passed := strings.CutPrefix(p.addr, systemdPrefix)
	if !passed && (p.network == "unix" || p.network == "unixgram") {
		removeStale(p.addr)
	}
	if p.packet != nil {
		pc, err := socket(p, name, passed, net.ListenPacket, net.FilePacketConn)
		if err != nil {
			return listener{}, err
		}
		return listener{
			desc:  p.label + " " + pc.LocalAddr().String(),
			serve: func(ctx context.Context) error { return p.packet(srv, ctx, pc) },
			close: func() error {
				if p.network == "unixgram" && !passed {
					os.Remove(p.addr)
				}
				return pc.Close()
			},
		}, nil
	}
	ln, err := socket(p, name, passed, net.Listen, net.FileListener)
	if err != nil {
		return listener{}, err
	}
	if p.tlsConfig != nil {
		ln = tls.NewListener(ln, p.tlsConfig)
	}
	return listener{
		desc:  p.label + " " + ln.Addr().String(),
		serve: func(ctx context.Context) error { return p.stream(srv, ctx, ln) },
		close: ln.Close,
	}, nil
}

// socket listens on p's address with listen, or, if systemd passed the
// socket named name, makes it one with fromFile.
func socket[T any](p prepared, name string, passed bool, listen func(network, addr string) (T, error), fromFile func(*os.File) (T, error)) (T, error) {
	if !passed {
		return listen(p.network, p.addr)
	}
	f, err := inherited(name)
	if err != nil {
		var none T
		return none, err
	}
	defer f.Close() // fromFile has its own copy of the descriptor
	return fromFile(f)
}

// systemdPrefix starts an address that names a socket systemd passed
// (socket activation): "systemd:syslog" is the socket of the .socket
// unit's FileDescriptorName=syslog.
const systemdPrefix = "systemd:"

// inherited is the socket systemd passed under name, as sd_listen_fds(3)
// finds it: LISTEN_PID is this process, LISTEN_FDS counts the sockets
// from descriptor 3 on, and LISTEN_FDNAMES names them, colon-separated.
func inherited(name string) (*os.File, error) {
	if pid, _ := strconv.Atoi(os.Getenv("LISTEN_PID")); pid != os.Getpid() {
		return nil, errors.New("systemd passed no sockets to this process (LISTEN_PID)")
	}
	n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	for i := range min(n, len(names)) {
		if names[i] == name {
			return os.NewFile(uintptr(3+i), name), nil
		}
	}
	return nil, fmt.Errorf("systemd passed no socket named %q (LISTEN_FDNAMES=%q)", name, os.Getenv("LISTEN_FDNAMES"))
}

// removeStale removes a socket file that no process listens on any more
// (left by a crash), so that listening on its path succeeds. Anything
// else at the path is left alone, and Listen reports it.
func removeStale(path string) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return
	}
	for _, network := range []string{"unix", "unixgram"} {
		if c, err := net.Dial(network, path); err == nil {
			c.Close()
			return
		}
	}
	os.Remove(path)
}
