package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/netlog-go/netlog/internal/dedup"
	"github.com/netlog-go/netlog/internal/relay"
	"github.com/netlog-go/netlog/internal/urlquery"
	"github.com/netlog-go/netlog/receive"
)

type serveFlags struct {
	tcp, udp, unix, unixgram, tls               string
	syslogUDP, syslogTCP, syslogTLS, syslogUnix string
	relp, relpTLS                               string
	tlsCert, tlsKey, tlsClientCA                string
	format                                      string
	maxFrame, maxConns, maxConnsPerPeer         int
	dedup, dedupIDs                             int
	maxMemory, udpRcvbuf                        byteSize
	fsync                                       bool
	drain, idleTimeout, frameTimeout            time.Duration
	handshakeTimeout                            time.Duration
	metrics                                     string
	syslogMultiline                             bool
	outs                                        urlList

	// Set by --config or --check-config (config.go): the file's
	// [[listener]] tables, and where it set each flag it set.
	config, checkConfig string
	listeners           []listenerSpec
	from                map[string]string
}

// urlList is a repeatable flag's values.
type urlList []string

func (l *urlList) String() string     { return strings.Join(*l, " ") }
func (l *urlList) Set(s string) error { *l = append(*l, s); return nil }

func parseServe(args []string, stderr io.Writer) (_ *serveFlags, err error) {
	f := &serveFlags{}
	defer func() { err = f.explain(err) }()
	fs := flag.NewFlagSet("netlog serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.tcp, "tcp", "127.0.0.1:9020", "TCP `address` for length-prefixed frames (Python's SocketHandler); empty disables")
	fs.StringVar(&f.udp, "udp", "127.0.0.1:9021", "UDP `address` for one frame per datagram (Python's DatagramHandler); empty disables")
	fs.StringVar(&f.tls, "tls", "", "TCP `address` for length-prefixed frames over TLS (netlog's socket handler, network tls); needs --tls-cert and --tls-key")
	fs.StringVar(&f.unix, "unix", "", "Unix stream socket `path` for length-prefixed frames")
	fs.StringVar(&f.unixgram, "unixgram", "", "Unix datagram socket `path` for one frame per datagram")
	fs.StringVar(&f.syslogUDP, "syslog-udp", "", "UDP `address` for syslog messages (RFC 5424, RFC 3164, Python's form); off by default")
	fs.StringVar(&f.syslogTCP, "syslog-tcp", "", "TCP `address` for syslog messages, octet-counted or LF-framed, detected per connection")
	fs.StringVar(&f.syslogTLS, "syslog-tls", "", "TCP `address` for syslog over TLS (RFC 5425); needs --tls-cert and --tls-key")
	fs.StringVar(&f.relp, "relp", "", "TCP `address` for RELP (rsyslog's omrelp, netlog's relp network): each message acknowledged once printed")
	fs.StringVar(&f.relpTLS, "relp-tls", "", "TCP `address` for RELP over TLS; needs --tls-cert and --tls-key")
	fs.StringVar(&f.syslogUnix, "syslog-unix", "", "Unix datagram socket `path` for syslog messages, like /dev/log")
	fs.BoolVar(&f.syslogMultiline, "syslog-multiline", true, "on LF-framed syslog TCP and TLS, join a line that does not begin with <PRI> to the message before it (docs/syslog-framing.md); false makes every line a message")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate `file` of the TLS listeners")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key `file` of the TLS listeners")
	fs.StringVar(&f.tlsClientCA, "tls-client-ca", "", "PEM CA `file`: require client certificates it signed")
	fs.StringVar(&f.format, "format", "text", "`format` of the stdout and stderr outputs: text or json (one object per line)")
	fs.Var(&f.outs, "out", "send every record to this output `URL` (repeatable; default stdout): stdout, stderr, or a URL as netlog.Open takes (syslog+relp://host:port, tcp://host:port, …) with level=, buffer=, overflow=; docs/relay.md")
	fs.IntVar(&f.maxFrame, "max-frame", receive.DefaultMaxFrame, "largest frame payload accepted, in `bytes`")
	fs.IntVar(&f.maxConns, "max-conns", receive.DefaultMaxConns, "most stream `connections` served at once; more are refused as busy")
	fs.IntVar(&f.maxConnsPerPeer, "max-conns-per-peer", 0, "most stream `connections` from one IP address; 0 means --max-conns/64")
	f.maxMemory = defaultMaxMemory
	fs.Var(&f.maxMemory, "max-memory", "memory `size` the process may use (like 256MiB): half for the buffers of connections and frames in flight, whose reading waits when they are spent")
	fs.DurationVar(&f.handshakeTimeout, "handshake-timeout", receive.DefaultHandshakeTimeout, "close a connection that has not completed its first frame (TLS handshake included) this long after connecting")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", receive.DefaultIdleTimeout, "close a connection on which no frame starts for this long")
	fs.DurationVar(&f.frameTimeout, "frame-timeout", receive.DefaultFrameTimeout, "refuse a frame that takes longer than this to arrive (a trickling peer)")
	f.udpRcvbuf = receive.PacketBuffer
	fs.Var(&f.udpRcvbuf, "udp-rcvbuf", "socket receive buffer `size` asked for on the datagram listeners (like 16MiB): the burst the kernel holds while the server is busy; a warning says when the kernel grants less")
	fs.BoolVar(&f.fsync, "fsync", false, "fsync the stdout output after each batch of records, before acknowledging them (RELP, the drain's close); stdout must be a file")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics at http://`address`/metrics, and /healthz and /readyz beside them; off by default")
	fs.StringVar(&f.config, "config", "", "TOML `file` of settings: a key per flag, and [[listener]] and [[output]] tables (docs/config.md); flags given override it")
	fs.StringVar(&f.checkConfig, "check-config", "", "check the --config `file` and the flags, listening on nothing, and exit with status 0 if they are good, else 1")
	fs.IntVar(&f.dedup, "dedup", 0, "drop a record sent again (a sender's ?seq=true numbers, docs/delivery.md) if it is among the last `records` of its sender seen; 0 turns it off")
	fs.IntVar(&f.dedupIDs, "dedup-ids", 0, "most sender `instances` --dedup follows at once, each taking --dedup bits (all of them at most a quarter of --max-memory); the least recently seen is forgotten (default 1024)")
	fs.DurationVar(&f.drain, "drain", receive.DefaultDrain, "on SIGINT or SIGTERM, how long to keep reading what senders have sent")
	if err := parseWithConfig(fs, f, args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.format != "text" && f.format != "json":
		return nil, fmt.Errorf("--format %q: want text or json", f.format)
	case f.maxFrame < 1:
		return nil, fmt.Errorf("--max-frame %d: want a positive size", f.maxFrame)
	case f.dedup < 0 || f.dedupIDs < 0:
		return nil, fmt.Errorf("--dedup %d, --dedup-ids %d: want positive numbers", f.dedup, f.dedupIDs)
	case dedupMemory(f) > float64(f.maxMemory)/4:
		return nil, fmt.Errorf("--dedup %d, --dedup-ids %d: their windows would take %.0f bytes, over a quarter of --max-memory %v", f.dedup, f.dedupIDs, dedupMemory(f), f.maxMemory)
	case f.maxConns < 1 || f.maxConnsPerPeer < 0:
		return nil, fmt.Errorf("--max-conns %d, --max-conns-per-peer %d: want positive numbers", f.maxConns, f.maxConnsPerPeer)
	case f.maxMemory < minMaxMemory:
		return nil, fmt.Errorf("--max-memory %v: want at least %v", f.maxMemory, byteSize(minMaxMemory))
	case f.udpRcvbuf < 1 || f.udpRcvbuf > 1<<30:
		return nil, fmt.Errorf("--udp-rcvbuf %v: want a size from 1 byte to 1GiB", f.udpRcvbuf)
	case f.drain <= 0 || f.idleTimeout <= 0 || f.frameTimeout <= 0 || f.handshakeTimeout <= 0:
		return nil, fmt.Errorf("--drain %v, --idle-timeout %v, --frame-timeout %v, --handshake-timeout %v: want positive durations", f.drain, f.idleTimeout, f.frameTimeout, f.handshakeTimeout)
	case (f.tls != "" || f.syslogTLS != "" || f.relpTLS != "") && (f.tlsCert == "" || f.tlsKey == ""):
		return nil, fmt.Errorf("--tls, --syslog-tls and --relp-tls need --tls-cert and --tls-key")
	case f.tls == "" && f.syslogTLS == "" && f.relpTLS == "" && (f.tlsCert != "" || f.tlsKey != "" || f.tlsClientCA != ""):
		return nil, fmt.Errorf("--tls-cert, --tls-key and --tls-client-ca go with --tls, --syslog-tls or --relp-tls")
	}
	return f, nil
}

// dedupMemory is the most the windows of --dedup take: a bit per record
// for each sender instance.
// (float64: the product of two flags may overflow an int).
func dedupMemory(f *serveFlags) float64 {
	ids := f.dedupIDs
	if ids == 0 {
		ids = dedup.DefaultMaxIDs
	}
	return float64(f.dedup) / 8 * float64(ids)
}

// listener is one socket of netlog serve and how to serve it.
type listener struct {
	desc  string
	serve func(context.Context) error
	close func() error
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseServe(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "netlog serve:", err)
		return parseStatus(err)
	}
	ps, err := prepare(f.listenerSpecs())
	if f.checkConfig != "" {
		return checkConfig(f, len(ps), err, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "netlog serve:", err)
		return 1
	}
	if err := syncable(f, stdout); err != nil {
		fmt.Fprintln(stderr, "netlog serve:", err)
		return 2
	}
	out, err := outputs(f, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "netlog serve:", err)
		return 2
	}
	hooks := outputHooksOf(out)
	srv := &receive.Server{
		Sink:     out,
		MaxFrame: f.maxFrame,
		Drain:    f.drain,
		MaxConns: f.maxConns, MaxConnsPerPeer: f.maxConnsPerPeer,
		SyslogSingleLine: !f.syslogMultiline,
		IdleTimeout:      f.idleTimeout, FrameTimeout: f.frameTimeout, HandshakeTimeout: f.handshakeTimeout,
		// The other half is for the rest: garbage not yet collected (the
		// runtime's memory limit is 3/4 of --max-memory, so that it
		// collects before then), stacks, the output's buffers, the binary.
		MaxMemory:     int64(f.maxMemory) / 2,
		OnRefuse:      func(r receive.Report) { fmt.Fprintln(stderr, "netlog:", r) },
		OnAcceptError: func(err error) { fmt.Fprintln(stderr, "netlog:", err) },
		OnWarning:     func(err error) { fmt.Fprintln(stderr, "netlog: warning:", err) },
		ReadBuffer:    int(f.udpRcvbuf),
		Dedup:         f.dedup, DedupIDs: f.dedupIDs,
	}
	// The collector keeps Go's default GOGC of 100: the heap grows to
	// twice what is live (4 MiB at least) before it collects. Records
	// leave almost no garbage, so it seldom runs, and other values of
	// GOGC change little (docs/receiver-limits.md). The memory limit
	// makes it collect before --max-memory is reached whatever GOGC is.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(f.maxMemory) / 4 * 3))
	if len(ps) == 0 {
		closeOutputs(out, f.drain, stderr)
		fmt.Fprintln(stderr, "netlog serve: every listener is disabled")
		return 2
	}
	ls, err := open(ps, srv)
	h := newHealth(ls, hooks.health)
	if err == nil && f.metrics != "" {
		var m listener
		if m, err = metrics(f.metrics, srv, h, out); err == nil {
			ls = append(ls, m)
		}
	}
	if err != nil {
		for _, l := range ls {
			l.close()
		}
		closeOutputs(out, f.drain, stderr)
		fmt.Fprintln(stderr, "netlog serve:", err)
		return 1
	}
	defer onHangup(hooks.reopen, stderr)()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Once the listeners have drained, a connection still waiting for an
	// output (one that is down) gives up: its records are not
	// acknowledged, and the outputs get --drain more to deliver.
	defer context.AfterFunc(ctx, func() { time.AfterFunc(f.drain, out.Stop) })()
	errs := make(chan error, len(ls))
	var wg sync.WaitGroup
	for _, l := range ls {
		fmt.Fprintln(stderr, "netlog: listening on", l.desc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- l.serve(ctx)
		}()
	}
	go func() { wg.Wait(); close(errs) }()
	h.serving(ctx, stderr)
	status := 0
	for err := range errs {
		if err != nil {
			fmt.Fprintln(stderr, "netlog serve:", err)
			status = 1
			cancel() // one listener failing stops them all
		}
	}
	for _, l := range ls {
		l.close()
	}
	if !closeOutputs(out, f.drain, stderr) {
		status = 1
	}
	fmt.Fprintln(stderr, stopLine(srv.Stats()))
	return status
}

// stopLine is the summary printed at the end: the records taken, the
// frames refused and, when there were any, the datagrams the kernel
// dropped before netlog could read them (a full receive buffer).
func stopLine(st receive.Stats) string {
	line := fmt.Sprintf("netlog: stopped: %d records, %d frames refused", st.Records, sum(st.Refused))
	if st.KernelDrops > 0 {
		line += fmt.Sprintf(", %d datagrams dropped by the kernel (receive buffer full)", st.KernelDrops)
	}
	return line
}

// outputs opens the outputs of --out (stdout if none) as one relay.
func outputs(f *serveFlags, stdout, stderr io.Writer) (*relay.Relay, error) {
	env := &relay.Env{Stdout: stdout, Stderr: stderr, JSON: f.format == "json", Sync: f.fsync,
		OnError: func(err error) { fmt.Fprintln(stderr, "netlog: output:", err) }}
	urls := f.outs
	if len(urls) == 0 {
		urls = []string{"stdout"}
	}
	var outs []relay.Output
	for _, u := range urls {
		o, err := relay.Open(u, env)
		if err != nil {
			// Close at once: nothing was taken yet, and what an output's
			// spool recovered stays there for the next start.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			relay.New(outs).Close(ctx)
			return nil, err
		}
		outs = append(outs, o)
	}
	return relay.New(outs), nil
}

// closeOutputs delivers what the outputs hold, for up to drain, and
// closes them; false if one failed or dropped records. It reports the
// records an output with a durable queue left in it for the next start.
func closeOutputs(out *relay.Relay, drain time.Duration, stderr io.Writer) bool {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := out.Close(ctx)
	for _, o := range out.Outputs() {
		if n := o.Stats().Stored; n > 0 {
			fmt.Fprintf(stderr, "netlog serve: output %s: %d records kept in its spool for the next start\n", o.Name(), n)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "netlog serve:", err)
		return false
	}
	return true
}

// syncable checks that --fsync has a file to sync.
func syncable(f *serveFlags, stdout io.Writer) error {
	if !f.fsync {
		return nil
	}
	if file, ok := stdout.(*os.File); ok {
		if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() {
			return nil
		}
	}
	return errors.New("--fsync: the output (stdout) is not a file")
}

func sum(m map[receive.Reason]uint64) (n uint64) {
	for _, v := range m {
		n += v
	}
	return n
}

// defaultMaxMemory is --max-memory's default; minMaxMemory leaves room
// for the read buffers of a few hundred connections and a max-size frame.
const (
	defaultMaxMemory = 256 << 20
	minMaxMemory     = 16 << 20
)

// byteSize is a flag's size in bytes, written with an optional KiB, MiB
// or GiB suffix.
type byteSize int64

func (b *byteSize) String() string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if *b != 0 && int64(*b)%u.size == 0 {
			return fmt.Sprint(int64(*b)/u.size, u.name)
		}
	}
	return fmt.Sprint(int64(*b))
}

func (b *byteSize) Set(s string) error {
	n, err := urlquery.ParseSize(s)
	if err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	*b = byteSize(n)
	return nil
}
