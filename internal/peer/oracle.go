package peer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Reading is rsyslog's reading of one message: every field its parser
// set. Timestamp is the reported time; it equals Received when the
// message carried none (rsyslog then uses the time of reception).
type Reading struct {
	Pri       string `json:"pri"`
	Timestamp string `json:"timestamp"`
	Received  string `json:"received"`
	Hostname  string `json:"hostname"`
	AppName   string `json:"appname"`
	ProcID    string `json:"procid"`
	MsgID     string `json:"msgid"`
	Tag       string `json:"tag"`
	SD        string `json:"sd"`
	Msg       string `json:"msg"`
	Raw       string `json:"raw"`
}

// oracleTemplate writes one JSON object a message. rsyslog's json option
// escapes quotes, backslashes and control characters, so a multi-line
// message stays on one line of the file.
const oracleTemplate = `{"pri":"%pri%","timestamp":"%timereported:::date-rfc3339,json%",` +
	`"received":"%timegenerated:::date-rfc3339,json%","hostname":"%hostname:::json%",` +
	`"appname":"%app-name:::json%","procid":"%procid:::json%","msgid":"%msgid:::json%",` +
	`"tag":"%syslogtag:::json%","sd":"%structured-data:::json%","msg":"%msg:::json%",` +
	`"raw":"%rawmsg:::json%"}\n`

// markerText starts the text of the message that closes each feed; it
// passes through every relay unchanged.
const markerText = "netlog-oracle-marker-"

// Oracle is an rsyslogd that reads syslog as rsyslog reads it and reports
// each field: the reference for differential tests of netlog's parser. It
// listens on loopback UDP, TCP (imtcp: octet counting or LF, decided per
// frame) and RELP, escapes no control character on receipt (so Msg is the
// text as sent), does no DNS look-up (a message without hostname gets
// "127.0.0.1"), and writes every message to one file, in arrival order.
// Feeds are serialised: one at a time.
type Oracle struct {
	UDP, TCP, RELP string
	conf, out      string
	cmd            *exec.Cmd
	mu             sync.Mutex
	seen           int // lines of out already returned
	seq            int
}

// StartOracle starts the oracle rsyslogd and waits until it reads.
func StartOracle(t testing.TB) *Oracle {
	t.Helper()
	bin := Path(t, "rsyslogd")
	dir := t.TempDir()
	o := &Oracle{UDP: FreePort(t, "udp"), TCP: FreePort(t, "tcp"), RELP: FreePort(t, "tcp"),
		conf: filepath.Join(dir, "rsyslog.conf"), out: filepath.Join(dir, "out.json")}
	conf := fmt.Sprintf(`global(workDirectory=%q maxMessageSize="64k" net.enableDNS="off"
  parser.escapeControlCharactersOnReceive="off")
main_queue(queue.type="Direct")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port=%q)
module(load="imtcp" maxSessions="100")
input(type="imtcp" address="127.0.0.1" port=%q)
module(load="imrelp")
input(type="imrelp" address="127.0.0.1" port=%q)
template(name="oracle" type="string" string=%s)
action(type="omfile" file=%q template="oracle" flushInterval="0" asyncWriting="off")
`, dir, port(o.UDP), port(o.TCP), port(o.RELP), rsyslogQuote(oracleTemplate), o.out)
	if err := os.WriteFile(o.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	o.cmd = exec.Command(bin, "-n", "-f", o.conf, "-i", filepath.Join(dir, "pid"))
	o.cmd.Env = append(os.Environ(), "TZ=UTC") // legacy timestamps carry no zone
	o.cmd.Stdout, o.cmd.Stderr = os.Stderr, os.Stderr
	if err := o.cmd.Start(); err != nil {
		t.Fatalf("rsyslogd: %v", err)
	}
	t.Cleanup(func() { o.cmd.Process.Signal(syscall.SIGTERM); o.cmd.Wait() })
	o.ready(t, o.TCP, "tcp", conf)
	return o
}

// ready sends markers to addr until one has come out: rsyslogd has no
// readiness signal. What came before is dropped.
func (o *Oracle) ready(t testing.TB, addr, network, conf string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if _, err := o.exchange(network, addr, nil, 2*time.Second); err == nil {
			return
		}
	}
	t.Fatalf("rsyslogd passed no message within 30 s; its configuration:\n%s", conf)
}

// Read feeds msgs to the oracle's own input (network "udp": one datagram
// each; "tcp": the bytes of one connection, concatenated as given, framed
// by the caller) and returns rsyslog's readings, in order.
func (o *Oracle) Read(t testing.TB, network string, msgs ...[]byte) []Reading {
	t.Helper()
	addr := o.UDP
	if network == "tcp" {
		addr = o.TCP
	}
	return o.Through(t, network, addr, msgs...)
}

// Through feeds msgs to addr, an oracle input or a relay in front of the
// oracle, and returns the oracle's readings of what arrived. A marker
// message closes the feed (after a line feed when a TCP stream does not
// end with one, which ends its last LF-framed message as closing the
// connection would); the readings are what came before it.
func (o *Oracle) Through(t testing.TB, network, addr string, msgs ...[]byte) []Reading {
	t.Helper()
	r, err := o.exchange(network, addr, msgs, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (o *Oracle) exchange(network, addr string, msgs [][]byte, wait time.Duration) ([]Reading, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	token := fmt.Sprintf("%s%d-%d", markerText, os.Getpid(), o.seq)
	marker := []byte("<13>Dec  1 00:00:00 oraclehost oracle: " + token)
	c, err := net.Dial(network, addr)
	if err != nil {
		return nil, fmt.Errorf("oracle feed: %w", err)
	}
	defer c.Close()
	if network == "udp" {
		for _, m := range append(msgs, marker) {
			if _, err := c.Write(m); err != nil {
				return nil, fmt.Errorf("oracle feed: %w", err)
			}
		}
	} else {
		stream := bytes.Join(msgs, nil)
		if len(stream) > 0 && stream[len(stream)-1] != '\n' {
			stream = append(stream, '\n')
		}
		if _, err := c.Write(append(append(stream, marker...), '\n')); err != nil {
			return nil, fmt.Errorf("oracle feed: %w", err)
		}
	}
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		lines := readLines(o.out)
		for i := o.seen; i < len(lines); i++ {
			if !strings.Contains(lines[i], token) {
				continue
			}
			got, err := decodeReadings(lines[o.seen:i])
			o.seen = i + 1
			return got, err
		}
	}
	return nil, fmt.Errorf("oracle: marker %s did not come out of %s %s within %v", token, network, addr, wait)
}

func decodeReadings(lines []string) ([]Reading, error) {
	out := make([]Reading, 0, len(lines))
	for _, l := range lines {
		if strings.Contains(l, markerText) { // an earlier feed's marker that arrived late
			continue
		}
		var r Reading
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			return nil, fmt.Errorf("oracle output line %q: %w", l, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// rsyslogQuote quotes s as a RainerScript string.
func rsyslogQuote(s string) string {
	s = strings.ReplaceAll(s, `\n`, "\x00")
	s = strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`)
	return `"` + strings.ReplaceAll(s, "\x00", `\n`) + `"`
}

func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

// RelayKind names a relay configuration: a daemon and how it forwards.
type RelayKind string

// The relay configurations of issue 16. Each takes legacy (RFC 3164) and
// RFC 5424 input on loopback UDP and TCP and forwards every message.
const (
	RsyslogForwardUDP     RelayKind = "rsyslog-ForwardFormat-udp"            // omfwd UDP, RSYSLOG_ForwardFormat
	RsyslogForwardTCP     RelayKind = "rsyslog-ForwardFormat-tcp"            // omfwd TCP (LF), RSYSLOG_ForwardFormat (omfwd's default)
	RsyslogTraditionalUDP RelayKind = "rsyslog-TraditionalForwardFormat-udp" // omfwd UDP, RSYSLOG_TraditionalForwardFormat
	RsyslogTraditionalTCP RelayKind = "rsyslog-TraditionalForwardFormat-tcp" // omfwd TCP (LF), RSYSLOG_TraditionalForwardFormat
	RsyslogProtocol23TCP  RelayKind = "rsyslog-SyslogProtocol23Format-tcp"   // omfwd TCP, octet-counted, RSYSLOG_SyslogProtocol23Format
	RsyslogRELP           RelayKind = "rsyslog-omrelp"                       // omrelp, its default template (RSYSLOG_ForwardFormat)
	SyslogNGSyslog        RelayKind = "syslog-ng-syslog-tcp"                 // syslog-ng syslog() destination: RFC 5424, octet-counted TCP
	SyslogNGNetwork       RelayKind = "syslog-ng-network-tcp"                // syslog-ng network() destination: legacy BSD, LF over TCP
)

// RelayKinds lists every relay configuration.
var RelayKinds = []RelayKind{RsyslogForwardUDP, RsyslogForwardTCP, RsyslogTraditionalUDP,
	RsyslogTraditionalTCP, RsyslogProtocol23TCP, RsyslogRELP, SyslogNGSyslog, SyslogNGNetwork}

// Network returns the transport the relay forwards over: "udp", "tcp" or
// "relp".
func (k RelayKind) Network() string {
	switch k {
	case RsyslogForwardUDP, RsyslogTraditionalUDP:
		return "udp"
	case RsyslogRELP:
		return "relp"
	}
	return "tcp"
}

// Relay is a running relay: what reaches its UDP or TCP input goes to the
// destination given to StartRelay. Its parser settings are the daemon's
// defaults (rsyslog forwards a control character as "#012" and the like). Probe messages (text "probe-…") that
// StartRelay uses to see it ready are written to a local file and not
// forwarded.
type Relay struct {
	Kind     RelayKind
	UDP, TCP string // its inputs (TCP: LF or octet-counted frames)
	cmd      *exec.Cmd
	tail
}

// StartRelay starts the relay kind forwarding to each of dests (host:port
// of a listener of kind.Network(), an Oracle's say; more than one get the
// same bytes, one action or destination each) and waits until it passes a
// probe to its local file.
func StartRelay(t testing.TB, kind RelayKind, dests ...string) *Relay {
	t.Helper()
	dir := t.TempDir()
	r := &Relay{Kind: kind, UDP: FreePort(t, "udp"), TCP: FreePort(t, "tcp")}
	r.tail.path = filepath.Join(dir, "probe.log")
	var conf, probeAddr string
	if strings.HasPrefix(string(kind), "syslog-ng") {
		probeAddr = FreePort(t, "tcp")
		var dst, use string
		for i, dest := range dests {
			host, dport, _ := net.SplitHostPort(dest)
			driver := "syslog"
			if kind == SyslogNGNetwork {
				driver = "network"
			}
			dst += fmt.Sprintf("destination d_fwd%d { %s(%q port(%s) transport(\"tcp\")); };\n", i, driver, host, dport)
			use += fmt.Sprintf(" destination(d_fwd%d);", i)
		}
		conf = fmt.Sprintf(`@version: 3.38
options { keep-hostname(yes); stats-freq(0); };
source s_in { network(ip(127.0.0.1) port(%s) transport("udp")); network(ip(127.0.0.1) port(%s) transport("tcp")); };
source s_probe { syslog(ip(127.0.0.1) port(%s) transport("tcp")); };
destination d_probe { file(%q template("$MSG\n")); };
%slog { source(s_probe); destination(d_probe); };
log { source(s_in);%s };
`, port(r.UDP), port(r.TCP), port(probeAddr), r.tail.path, dst, use)
		r.cmd = syslogNGCommand(t, dir, conf)
	} else {
		probeAddr = r.TCP
		conf = rsyslogRelayConf(kind, dir, r, dests)
		path := filepath.Join(dir, "rsyslog.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		r.cmd = exec.Command(Path(t, "rsyslogd"), "-n", "-f", path, "-i", filepath.Join(dir, "pid"))
		r.cmd.Env = append(os.Environ(), "TZ=UTC")
	}
	r.cmd.Stdout, r.cmd.Stderr = os.Stderr, os.Stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("relay %s: %v", kind, err)
	}
	t.Cleanup(func() { r.cmd.Process.Signal(syscall.SIGTERM); r.cmd.Wait() })
	if !r.tail.probe(probeAddr) {
		t.Fatalf("relay %s passed no probe within 20 s; its configuration:\n%s", kind, conf)
	}
	return r
}

// Addr returns the relay's input for network "udp" or "tcp".
func (r *Relay) Addr(network string) string {
	if network == "udp" {
		return r.UDP
	}
	return r.TCP
}

func rsyslogRelayConf(kind RelayKind, dir string, r *Relay, dests []string) string {
	var fwd string
	for _, dest := range dests {
		host, dport, _ := net.SplitHostPort(dest)
		switch kind {
		case RsyslogForwardUDP, RsyslogForwardTCP:
			fwd += fmt.Sprintf(`action(type="omfwd" target=%q port=%q protocol=%q template="RSYSLOG_ForwardFormat")`, host, dport, kind.Network())
		case RsyslogTraditionalUDP, RsyslogTraditionalTCP:
			fwd += fmt.Sprintf(`action(type="omfwd" target=%q port=%q protocol=%q template="RSYSLOG_TraditionalForwardFormat")`, host, dport, kind.Network())
		case RsyslogProtocol23TCP:
			fwd += fmt.Sprintf(`action(type="omfwd" target=%q port=%q protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`, host, dport)
		case RsyslogRELP:
			fwd += fmt.Sprintf(`action(type="omrelp" target=%q port=%q)`, host, dport)
		}
		fwd += "\n"
	}
	if kind == RsyslogRELP {
		fwd = "module(load=\"omrelp\")\n" + fwd
	}
	return fmt.Sprintf(`global(workDirectory=%q maxMessageSize="64k" net.enableDNS="off")
main_queue(queue.type="Direct")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port=%q)
module(load="imtcp" maxSessions="100")
input(type="imtcp" address="127.0.0.1" port=%q)
if $msg startswith "probe-" then {
  action(type="omfile" file=%q template="RSYSLOG_FileFormat")
  stop
}
%s
`, dir, port(r.UDP), port(r.TCP), r.tail.path, fwd)
}

// syslogNGCommand returns the command that runs syslog-ng in the
// foreground on conf, found as StartSyslogNG finds it.
func syslogNGCommand(t testing.TB, dir, conf string) *exec.Cmd {
	t.Helper()
	bin, root := syslogNGPath(t)
	confFile := filepath.Join(dir, "syslog-ng.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "-f", confFile, "-R", filepath.Join(dir, "persist"),
		"-p", filepath.Join(dir, "pid"), "-c", filepath.Join(dir, "ctl"))
	cmd.Env = append(os.Environ(), "TZ=UTC")
	if root != "" {
		cmd.Args = append(cmd.Args, "--module-path="+filepath.Join(root, "usr/lib/syslog-ng/3.38"))
		cmd.Env = append(cmd.Env, "LD_LIBRARY_PATH="+strings.Join([]string{
			filepath.Join(root, "usr/lib/x86_64-linux-gnu"), filepath.Join(root, "lib/x86_64-linux-gnu"),
			filepath.Join(root, "usr/lib/syslog-ng")}, ":"))
	}
	return cmd
}
