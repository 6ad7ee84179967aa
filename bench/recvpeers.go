package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// daemon is one receiver process, started for one row.
type daemon struct {
	cmd   *exec.Cmd
	out   string // the file it writes records to, one line each
	addr  string // where the row's input goes
	stdio *os.File
	// downstream, for a relay, is the receiver it forwards to, whose
	// file out is; it is stopped after the relay.
	downstream *daemon
	// newCounter, if set, counts the records at the destination; else
	// each line of out is one.
	newCounter func() (counter, error)
}

// counter counts the records at the daemon's destination.
func (d *daemon) counter() (counter, error) {
	if d.newCounter != nil {
		return d.newCounter()
	}
	return &lineCounter{path: d.out}, nil
}

// A contestant is a receiver program and the inputs it takes.
type contestant struct {
	name  string
	kinds []kind
	start func(dir string, k kind) (*daemon, error)
}

func contestants(netlogBin string) []contestant {
	return []contestant{
		{"netlog serve", []kind{octetTCP, lfTCP, udp, pickleTCP, relpTCP}, netlogServe(netlogBin)},
		{"rsyslog", []kind{octetTCP, lfTCP, udp, relpTCP}, rsyslog},
		{"syslog-ng", []kind{octetTCP, lfTCP, udp}, syslogNG},
		{"Python cookbook", []kind{pickleTCP}, pythonReceiver},
	}
}

// buildNetlog builds cmd/netlog from the repository into dir. It builds
// in the repository's own module (bench's go.mod does not list the
// command's dependencies).
func buildNetlog(dir string) (string, error) {
	bin := filepath.Join(dir, "netlog")
	cmd := exec.CommandContext(context.Background(), "go", "build", "-o", bin, "github.com/netlog-go/netlog/cmd/netlog")
	cmd.Dir = ".."
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building netlog: %w", err)
	}
	return bin, nil
}

// freePort returns a loopback address that was free a moment ago.
func freePort(network string) (string, error) {
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		defer pc.Close()
		return pc.LocalAddr().String(), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// listenAddr returns a free loopback address for the row's input.
func listenAddr(k kind) (string, error) {
	if k == udp {
		return freePort("udp")
	}
	return freePort("tcp")
}

func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

// launch starts cmd, its stdout and stderr going to dir/stdio (or stdout
// to out, for netlog serve).
func launch(cmd *exec.Cmd, d *daemon, dir string, stdoutIsOut bool) (*daemon, error) {
	var err error
	if d.stdio, err = os.Create(filepath.Join(dir, "stdio")); err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = d.stdio, d.stdio
	if stdoutIsOut {
		if cmd.Stdout, err = os.Create(d.out); err != nil {
			return nil, err
		}
	}
	d.cmd = cmd
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return d, nil
}

// stop ends the daemon with SIGTERM (SIGKILL after 10 s) and waits.
func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	if f, ok := d.cmd.Stdout.(*os.File); ok && f != d.stdio {
		f.Close()
	}
	d.stdio.Close()
	if d.downstream != nil {
		d.downstream.stop()
	}
}

// stdioTail is the end of what the daemon printed, for an error message.
func (d *daemon) stdioTail() string {
	b, _ := os.ReadFile(d.stdio.Name())
	tail := string(b[max(0, len(b)-2000):])
	if d.downstream != nil {
		tail += "\n  and the receiver it forwards to printed:\n" + d.downstream.stdioTail()
	}
	return tail
}

// netlogServe runs the binary built from this repository, its text output
// on stdout redirected to the file. Each connection is its own peer, so
// the per-peer limit is raised above the 64 connections of the largest
// row.
func netlogServe(bin string) func(string, kind) (*daemon, error) {
	return func(dir string, k kind) (*daemon, error) {
		addr, err := listenAddr(k)
		if err != nil {
			return nil, err
		}
		d := &daemon{out: filepath.Join(dir, "out.log"), addr: addr}
		return launch(exec.CommandContext(context.Background(), bin, serveArgs(k, addr)...), d, dir, true)
	}
}

// serveArgs are netlog serve's arguments for input k on addr, and no
// other listener.
func serveArgs(k kind, addr string) []string {
	args := []string{"serve", "--tcp=", "--udp=", "--max-conns-per-peer=128"}
	switch k {
	case octetTCP, lfTCP:
		args = append(args, "--syslog-tcp="+addr)
	case udp:
		args = append(args, "--syslog-udp="+addr)
	case pickleTCP:
		args = append(args, "--tcp="+addr)
	case relpTCP:
		args = append(args, "--relp="+addr)
	}
	return args
}

// rsyslog runs rsyslogd in the foreground with its default queues: the
// inputs hand messages to the main queue (an in-memory array), whose
// worker writes them with omfile's default buffering. imrelp therefore
// acknowledges a message once it is queued, not once it is written.
// imudp gets the 4 MiB socket receive buffer netlog serve asks for
// (receive.PacketBuffer), as syslog-ng does.
func rsyslog(dir string, k kind) (*daemon, error) {
	bin, err := sbin("rsyslogd")
	if err != nil {
		return nil, err
	}
	addr, err := listenAddr(k)
	if err != nil {
		return nil, err
	}
	d := &daemon{out: filepath.Join(dir, "out.log"), addr: addr}
	var c strings.Builder
	fmt.Fprintf(&c, "global(workDirectory=%q)\n", dir)
	c.WriteString(`template(name="bench" type="string" string="%timestamp:::date-rfc3339% %hostname% %syslogtag% %structured-data% %msg:::drop-last-lf%\n")` + "\n")
	fmt.Fprintf(&c, "ruleset(name=\"bench\") {\n  action(type=\"omfile\" file=%q template=\"bench\")\n}\n", d.out)
	switch k {
	case octetTCP, lfTCP:
		fmt.Fprintf(&c, "module(load=\"imtcp\" maxSessions=\"200\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=%q ruleset=\"bench\")\n", port(addr))
	case udp:
		fmt.Fprintf(&c, "module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=%q rcvbufSize=\"4m\" ruleset=\"bench\")\n", port(addr))
	case relpTCP:
		fmt.Fprintf(&c, "module(load=\"imrelp\")\ninput(type=\"imrelp\" address=\"127.0.0.1\" port=%q ruleset=\"bench\")\n", port(addr))
	}
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, []byte(c.String()), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(context.Background(), bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslog.pid"))
	return launch(cmd, d, dir, false)
}

// syslogNG runs syslog-ng in the foreground: syslog() for octet-counted
// TCP, network() with flags(syslog-protocol) for LF-framed TCP and UDP.
// max-connections is raised for the 64-connection rows, and log-iw-size
// with it so that each connection keeps the default window of 100
// messages (syslog-ng divides the source's window among its
// connections). Its UDP source gets netlog serve's 4 MiB receive buffer.
func syslogNG(dir string, k kind) (*daemon, error) {
	bin, root, err := syslogNGPath()
	if err != nil {
		return nil, err
	}
	addr, err := listenAddr(k)
	if err != nil {
		return nil, err
	}
	d := &daemon{out: filepath.Join(dir, "out.log"), addr: addr}
	const tcpOpts = `max-connections(100) log-iw-size(10000)`
	var src string
	switch k {
	case octetTCP:
		src = fmt.Sprintf(`syslog(ip(127.0.0.1) port(%s) transport("tcp") %s);`, port(addr), tcpOpts)
	case lfTCP:
		src = fmt.Sprintf(`network(ip(127.0.0.1) port(%s) transport("tcp") flags(syslog-protocol) %s);`, port(addr), tcpOpts)
	case udp:
		src = fmt.Sprintf(`network(ip(127.0.0.1) port(%s) transport("udp") so-rcvbuf(4194304) flags(syslog-protocol));`, port(addr))
	}
	conf := fmt.Sprintf(`@version: 3.38
options { keep-hostname(yes); stats-freq(0); };
source s_bench { %s };
destination d_file { file(%q template("${ISODATE} ${HOST} ${PROGRAM}[${PID}]: ${SDATA} ${MSG}\n")); };
log { source(s_bench); destination(d_file); };
`, src, d.out)
	confFile := filepath.Join(dir, "syslog-ng.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(context.Background(), bin, "-F", "-f", confFile, "-R", filepath.Join(dir, "persist"),
		"-p", filepath.Join(dir, "pid"), "-c", filepath.Join(dir, "ctl"))
	if root != "" {
		cmd.Args = append(cmd.Args, "--module-path="+filepath.Join(root, "usr/lib/syslog-ng/3.38"))
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+strings.Join([]string{
			filepath.Join(root, "usr/lib/x86_64-linux-gnu"), filepath.Join(root, "lib/x86_64-linux-gnu"),
			filepath.Join(root, "usr/lib/syslog-ng")}, ":"))
	}
	return launch(cmd, d, dir, false)
}

// syslogNGPath finds syslog-ng as internal/peer does: on PATH, or
// unpacked by scripts/install-peers.sh; root is "" or the unpacked tree.
func syslogNGPath() (bin, root string, err error) {
	if p, err := exec.LookPath("syslog-ng"); err == nil {
		return p, "", nil
	}
	cache, _ := os.UserCacheDir()
	root = filepath.Join(cache, "netlog-peers", "syslog-ng")
	bin = filepath.Join(root, "usr", "sbin", "syslog-ng")
	if _, err := os.Stat(bin); err != nil {
		return "", "", fmt.Errorf("syslog-ng is neither on PATH nor unpacked under %s (scripts/install-peers.sh)", root)
	}
	return bin, root, nil
}

// sbin finds a daemon on PATH or in the sbin directories.
func sbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(dir, name); isFile(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed", name)
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }

// pythonReceiver runs py_receiver.py, the logging cookbook's receiver.
func pythonReceiver(dir string, k kind) (*daemon, error) {
	if k != pickleTCP {
		return nil, errors.New("the Python receiver takes pickles only")
	}
	addr, err := listenAddr(k)
	if err != nil {
		return nil, err
	}
	d := &daemon{out: filepath.Join(dir, "out.log"), addr: addr}
	cmd := exec.CommandContext(context.Background(), "python3", "py_receiver.py", port(addr), d.out)
	return launch(cmd, d, dir, false)
}

func supports(c contestant, k kind) bool { return slices.Contains(c.kinds, k) }
