package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// A committed reading: the bytes rsyslog read as one message (sent, or
// raw where one input gave several messages) and its fields.
type committed struct {
	sent, raw []byte
	r         Reading
}

// readReadings reads a *.rsyslog.txt file as FormatReadings writes it.
func readReadings(t *testing.T, path string) []committed {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []committed
	var c committed
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		fail := func(err error) { t.Fatalf("%s:%d: %v", path, n+1, err) }
		switch {
		case line == "" || line[0] == '#':
		case strings.HasPrefix(line, "sent: "):
			s, err := strconv.Unquote(line[6:])
			if err != nil {
				fail(err)
			}
			c.sent = []byte(s)
		case strings.HasPrefix(line, "raw: "):
			s, err := strconv.Unquote(strings.TrimSpace(line[5:]))
			if err != nil {
				fail(err)
			}
			c.raw = []byte(s)
		case strings.HasPrefix(line, "msg="):
			if c.r.Msg, err = strconv.Unquote(line[4:]); err != nil {
				fail(err)
			}
			out = append(out, c)
			c = committed{}
		default:
			if err := readFields(line, &c.r); err != nil {
				fail(err)
			}
		}
	}
	return out
}

// readFields reads `pri=14 time=… host="…" …` into r.
func readFields(line string, r *Reading) error {
	to := map[string]*string{"pri": &r.Pri, "time": &r.Timestamp, "host": &r.Hostname, "app": &r.AppName,
		"procid": &r.ProcID, "msgid": &r.MsgID, "tag": &r.Tag, "sd": &r.SD}
	for line != "" {
		k, rest, ok := strings.Cut(line, "=")
		p := to[k]
		if !ok || p == nil {
			return fmt.Errorf("field %q unknown", line)
		}
		v, end := rest, len(rest)
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			v, end = q, len(q)
			v, _ = strconv.Unquote(q)
		} else if i := strings.IndexByte(rest, ' '); i >= 0 {
			v, end = rest[:i], i
		}
		*p, line = v, strings.TrimPrefix(rest[end:], " ")
	}
	return nil
}

// A difference netlog makes on purpose: docs/syslog-parsing.md lists each,
// with its reason. applies says whether the rule covers message p, read
// by rsyslog as r and by netlog as e; fields are the fields it may change.
type allowed struct {
	name    string
	fields  []string
	applies func(p []byte, r *Reading, e *record.Entry) bool
}

// allowList mirrors "Where netlog reads differently from rsyslog" in
// docs/syslog-parsing.md. Every rule still demands that netlog's text
// holds rsyslog's (no text lost) where it applies to the text.
var allowList = []allowed{
	{"no hostname: rsyslog puts the sender's address (127.0.0.1 here), netlog none", []string{"host"},
		func(p []byte, r *Reading, e *record.Entry) bool {
			return r.Hostname == "127.0.0.1" && e.Syslog.Hostname == "" && !bytes.Contains(p, []byte("127.0.0.1"))
		}},
	{"no timestamp: rsyslog reads the first word as hostname and the second as tag, netlog only Python's IDENT: and the rest as text",
		[]string{"host", "app", "procid", "msg"},
		func(_ []byte, r *Reading, e *record.Entry) bool {
			return e.Syslog.Format == "bare" && e.Syslog.AppName == "" && strings.HasSuffix(e.Msg, legacyMsg(r))
		}},
	{"rsyslog's app name stops at a '/' (postfix/smtpd gives postfix) or a byte that is not printable ASCII; netlog's is the tag's whole name", []string{"app"},
		func(_ []byte, r *Reading, e *record.Entry) bool {
			app := strings.TrimPrefix(r.AppName, "-")
			return strings.HasPrefix(r.Tag, e.Syslog.AppName) && strings.HasPrefix(e.Syslog.AppName, app) &&
				strings.IndexFunc(e.Syslog.AppName[len(app):], func(c rune) bool { return c == '/' || c < ' ' || c > '~' }) == 0
		}},
	{"a tag of '[' (a kernel line's \"[ 12.3]\" after a hostname): rsyslog takes the '[' as tag, netlog no tag", []string{"msg"},
		func(_ []byte, r *Reading, e *record.Entry) bool {
			return r.Tag == "[" && e.Syslog.AppName == "" && e.Msg == "["+r.Msg
		}},
	{"a BOM before an RFC 5424 MSG: netlog drops it (RFC 5424 §6.4: it marks UTF-8), rsyslog keeps it", []string{"msg"},
		func(_ []byte, r *Reading, e *record.Entry) bool {
			return e.Syslog.Format == "rfc5424" && r.Msg == "\ufeff"+e.Msg
		}},
	{"a TAB ends a tag (Snare) and is text where no tag precedes it (a stack trace's \"\\tat …\"): rsyslog's tag runs to the next space and takes what precedes it from the text", []string{"msg"},
		func(_ []byte, r *Reading, e *record.Entry) bool {
			return strings.Contains(r.Tag, "\t") && strings.HasSuffix(e.Msg, legacyMsg(r))
		}},
	{"a trailing CR: netlog drops it as a line end, rsyslog keeps it over UDP", []string{"msg"},
		func(_ []byte, r *Reading, e *record.Entry) bool {
			return strings.HasSuffix(r.Msg, "\r") && e.Msg == strings.TrimRight(legacyMsg(r), "\r")
		}},
	{"neither <PRI> nor timestamp: rsyslog reads it as priority 13, netlog passes it raw (whole, counted)", nil,
		func(p []byte, _ *Reading, e *record.Entry) bool {
			_, err := syslog.Parse(p)
			return e.Syslog.Format == "raw" && errors.Is(err, syslog.ErrUnparsed) && strings.Contains(err.Error(), "no <PRI>")
		}},
	{"RFC 5424 that breaks its grammar (a space after '=' in SD): rsyslog reads what it can, netlog passes it raw (whole, counted)", nil,
		func(p []byte, _ *Reading, e *record.Entry) bool {
			_, err := syslog.Parse(p)
			return e.Syslog.Format == "raw" && err != nil && strings.Contains(err.Error(), "as RFC 5424")
		}},
}

// legacyMsg is rsyslog's msg without the space it keeps after a legacy
// tag.
func legacyMsg(r *Reading) string { return strings.TrimPrefix(r.Msg, " ") }

// diff compares netlog's reading e of message p with rsyslog's r, field by
// field, and returns the differences no rule of allowList covers (and the
// rules that covered one).
func diff(p []byte, r *Reading, e *record.Entry) (bad []string, rules []string) {
	s := e.Syslog
	dash := func(v string) string {
		if v == "" {
			return "-"
		}
		return v
	}
	msg := r.Msg
	if s.Format != "rfc5424" {
		msg = legacyMsg(r)
	}
	got := map[string][2]string{
		"pri":    {r.Pri, strconv.Itoa(s.Facility<<3 | s.Severity)},
		"time":   {rsyslogTime(r), netlogTime(e)},
		"host":   {r.Hostname, s.Hostname},
		"app":    {r.AppName, dash(s.AppName)},
		"procid": {r.ProcID, dash(s.ProcID)},
		"msgid":  {r.MsgID, dash(s.MsgID)},
		"sd":     {sdOf(r.SD), fmt.Sprint(s.SD)},
		"msg":    {msg, e.Msg},
	}
	if r.ProcID == "" && s.ProcID == "" { // rsyslog writes an empty [PID] as "", not "-"
		got["procid"] = [2]string{"", ""}
	}
	if s.Format == "raw" { // the whole message is the text: every field differs
		got = map[string][2]string{"format": {"read", "raw"}}
	}
	differs := map[string]bool{}
	for k, v := range got {
		differs[k] = v[0] != v[1]
	}
	for _, a := range allowList {
		if !a.applies(p, r, e) {
			continue
		}
		if a.fields == nil { // the message as a whole
			return nil, append(rules, a.name)
		}
		needed := false
		for _, f := range a.fields {
			needed = needed || differs[f]
			differs[f] = false
		}
		if needed {
			rules = append(rules, a.name)
		}
	}
	for _, k := range []string{"format", "pri", "time", "host", "app", "procid", "msgid", "sd", "msg"} {
		if differs[k] {
			bad = append(bad, fmt.Sprintf("%s: rsyslog %q, netlog %q", k, got[k][0], got[k][1]))
		}
	}
	return bad, rules
}

// rsyslogTime is the oracle's timestamp as compared: "(reception)", or
// the wall clock without the year (a legacy timestamp has none; rsyslog
// and netlog each put the current one).
func rsyslogTime(r *Reading) string {
	if r.Timestamp == "(reception)" || r.Timestamp == r.Received {
		return "(reception)"
	}
	t, err := time.Parse(time.RFC3339Nano, r.Timestamp)
	if err != nil {
		return r.Timestamp
	}
	return t.Format("01-02T15:04:05.999999999Z07:00")
}

// netlogTime is netlog's timestamp as compared: one without a zone in the
// message is in the local zone, the oracle's in UTC, so only the wall
// clock is compared, as UTC.
func netlogTime(e *record.Entry) string {
	switch {
	case e.Created.IsZero():
		return "(reception)"
	case e.Created.Location() == time.Local:
		t := e.Created
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC).Format("01-02T15:04:05.999999999Z07:00")
	}
	return e.Created.Format("01-02T15:04:05.999999999Z07:00")
}

// sdOf is rsyslog's structured data as netlog's reader delimits its
// elements, for comparison with netlog's ("-": none).
func sdOf(sd string) string {
	if sd == "-" {
		return "[]"
	}
	e, err := syslog.Parse([]byte("<13>1 - - - - - " + sd))
	if err != nil {
		return sd
	}
	return fmt.Sprint(e.Syslog.SD)
}

// parse is what netlog serve makes of one message.
func parse(p []byte) *record.Entry {
	e, err := syslog.Parse(p)
	if err != nil {
		e = syslog.Raw(p)
	}
	return e
}

// report compares and prints one line per failing message; it returns
// how often each allowed difference applied.
func report(t *testing.T, name string, p []byte, r *Reading, e *record.Entry, used map[string]int) {
	t.Helper()
	bad, rules := diff(p, r, e)
	for _, n := range rules {
		used[n]++
	}
	if len(bad) > 0 {
		why := ""
		if _, err := syslog.Parse(p); err != nil {
			why = " (" + err.Error() + ")"
		}
		t.Errorf("%s: %q read as %s%s:\n\t%s", name, p, e.Syslog.Format, why, strings.Join(bad, "\n\t"))
	}
}

// TestDifferentialCommitted reads every committed rsyslog reading (the
// legacy corpus directly and through every relay, and every real sender's
// capture) with netlog's parser, as netlog serve does (a TCP capture
// deframed by transport.SyslogReader), and compares field by field:
// facility and severity, timestamp (year masked), hostname, app name,
// procid, msgid, structured data and text. A difference fails unless it is
// on allowList, which mirrors docs/syslog-parsing.md.
func TestDifferentialCommitted(t *testing.T) {
	used := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(testdata, "legacy-corpus*.rsyslog.txt"))
	dgrams, _ := filepath.Glob(filepath.Join(testdata, "senders", "*.dgrams.rsyslog.txt"))
	n := 0
	for _, f := range append(files, dgrams...) {
		for i, c := range readReadings(t, f) {
			p, relayed := c.sent, filepath.Base(f) != "legacy-corpus.rsyslog.txt" && !strings.Contains(f, "senders")
			if p == nil || relayed { // what the relay forwarded
				p = c.raw
			}
			report(t, fmt.Sprintf("%s #%d", filepath.Base(f), i+1), p, &c.r, parse(p), used)
			n++
		}
	}
	streams, _ := filepath.Glob(filepath.Join(testdata, "senders", "*.stream"))
	for _, f := range streams {
		n += compareStream(t, f, used)
	}
	if n == 0 {
		t.Fatal("no committed readings")
	}
	t.Logf("%d messages compared; allowed differences: %v", n, used)
}

// compareStream deframes a TCP capture as netlog serve does and compares
// each frame with rsyslog's committed reading of the same bytes.
func compareStream(t *testing.T, f string, used map[string]int) int {
	t.Helper()
	frames := deframe(t, f)
	entries := make([]*record.Entry, len(frames))
	for i, p := range frames {
		entries[i] = parse(p)
	}
	compareFrames(t, filepath.Base(f), frames, entries, readReadings(t, f+".rsyslog.txt"), used)
	return len(frames)
}

// deframe splits a TCP capture into messages as netlog serve does.
func deframe(t *testing.T, f string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	sr := transport.NewSyslogReader(bytes.NewReader(b), 64<<10)
	sr.Join = &transport.LineJoin{} // netlog serve's default: multi-line messages joined
	for {
		p, err := sr.Next()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatalf("%s: frame %d: %v", f, len(frames)+1, err)
		}
		frames = append(frames, bytes.Clone(p))
	}
}

// compareFrames compares netlog's entries, one per frame of a stream, with
// rsyslog's readings of the same stream, lining up the continuation lines
// netlog joins (joinLines).
func compareFrames(t *testing.T, name string, frames [][]byte, entries []*record.Entry, readings []committed, used map[string]int) {
	t.Helper()
	for i, p := range frames {
		name := fmt.Sprintf("%s frame #%d", name, i+1)
		if len(readings) == 0 {
			t.Errorf("%s: %q: rsyslog read no message here", name, p)
			continue
		}
		r, joined := joinLines(p, readings)
		readings = readings[joined:]
		if joined > 1 {
			used["multi-line on newline-framed TCP: netlog joins continuation lines into one message, rsyslog reads each line as one"]++
		}
		report(t, name, p, &r, entries[i], used)
	}
	if len(readings) > 0 {
		t.Errorf("%s: rsyslog read %d messages more than netlog, from %q", name, len(readings), readings[0].raw)
	}
}

// joinLines returns rsyslog's reading of frame p: the first of readings,
// or, where netlog's stream reader joined continuation lines into one
// frame (p is the first reading's raw, a LF, and more), the first reading
// with all the rest of p as more text, and how many readings p took:
// those whose raw bytes p holds, in order (rsyslog may have taken a
// line's leading digits as an octet count, so gaps are allowed).
func joinLines(p []byte, readings []committed) (Reading, int) {
	r := readings[0].r
	rest, ok := bytes.CutPrefix(p, readings[0].raw)
	if !ok || !bytes.HasPrefix(rest, []byte("\n")) {
		return r, 1
	}
	r.Msg += string(rest)
	n := 1
	for ; n < len(readings) && len(readings[n].raw) > 0; n++ {
		i := bytes.Index(rest, readings[n].raw)
		if i < 0 {
			break
		}
		rest = rest[i+len(readings[n].raw):]
	}
	return r, n
}

// liveNetlog is a receive.Server, the receiver of netlog serve, on
// loopback syslog UDP, TCP and RELP, handing each entry to got.
type liveNetlog struct {
	addr map[string]string // by network: "udp", "tcp", "relp"
	got  chan *record.Entry
}

func startNetlog(t *testing.T) *liveNetlog {
	t.Helper()
	n := &liveNetlog{addr: map[string]string{}, got: make(chan *record.Entry, 64)}
	srv := &receive.Server{Sink: receive.SinkFunc(func(e *record.Entry) error { n.got <- e; return nil })}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.addr["udp"] = pc.LocalAddr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 3)
	go func() { done <- srv.ServeSyslogPacket(ctx, pc) }()
	for network, serve := range map[string]func(context.Context, net.Listener) error{"tcp": srv.ServeSyslogStream, "relp": srv.ServeRELP} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n.addr[network] = ln.Addr().String()
		go func() { done <- serve(ctx, ln) }()
	}
	t.Cleanup(func() { cancel(); <-done; <-done; <-done })
	return n
}

// next waits for netlog's next entry.
func (n *liveNetlog) next(t *testing.T) *record.Entry {
	t.Helper()
	select {
	case e := <-n.got:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("netlog made no entry within 30 s")
		return nil
	}
}

// read sends msgs ("udp": a datagram each, one at a time; "tcp": all on
// one connection) and returns the want entries netlog made of them.
func (n *liveNetlog) read(t *testing.T, network string, msgs [][]byte, want int) []*record.Entry {
	t.Helper()
	c, err := net.Dial(network, n.addr[network])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []*record.Entry
	for _, m := range msgs {
		if _, err := c.Write(m); err != nil {
			t.Fatal(err)
		}
		if network == "udp" { // one at a time: a datagram is not lost on loopback, but not assumed so
			out = append(out, n.next(t))
		}
	}
	c.Close() // ends the last line of a stream
	for len(out) < want {
		out = append(out, n.next(t))
	}
	return out
}

// TestDifferentialLive sends the same bytes to a receive.Server (netlog
// serve's receiver) and to the rsyslog oracle and compares their readings
// as TestDifferentialCommitted does: the legacy corpus and every sender's
// datagrams over UDP, every sender's TCP stream over TCP.
func TestDifferentialLive(t *testing.T) {
	o, n := StartOracle(t), startNetlog(t)
	used, count := map[string]int{}, 0
	corpus, err := ReadCorpus(filepath.Join(testdata, "legacy-corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][][]byte{"legacy-corpus.txt": corpus}
	dgrams, _ := filepath.Glob(filepath.Join(testdata, "senders", "*.dgrams"))
	for _, f := range dgrams {
		if inputs[filepath.Base(f)], err = ReadDatagrams(f); err != nil {
			t.Fatal(err)
		}
	}
	for name, msgs := range inputs {
		readings := o.Read(t, "udp", msgs...)
		if len(readings) != len(msgs) {
			t.Fatalf("%s: rsyslog read %d messages of %d datagrams", name, len(readings), len(msgs))
		}
		for i, e := range n.read(t, "udp", msgs, len(msgs)) {
			report(t, fmt.Sprintf("%s #%d", name, i+1), msgs[i], &readings[i], e, used)
		}
		count += len(msgs)
	}
	streams, _ := filepath.Glob(filepath.Join(testdata, "senders", "*.stream"))
	for _, f := range streams {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		frames := deframe(t, f)
		var readings []committed
		for _, r := range o.Read(t, "tcp", b) {
			readings = append(readings, committed{raw: []byte(r.Raw), r: r})
		}
		compareFrames(t, filepath.Base(f), frames, n.read(t, "tcp", [][]byte{b}, len(frames)), readings, used)
		count += len(frames)
	}
	t.Logf("%d messages compared; allowed differences: %v", count, used)
}

// TestDifferentialRelays sends the legacy corpus through every relay
// configuration, each forwarding the same bytes to netlog's receiver and
// to the oracle (two actions, or destinations, of one relay), and
// compares the two readings as TestDifferentialCommitted does. The
// relay's closing marker ends netlog's part.
func TestDifferentialRelays(t *testing.T) {
	o, n := StartOracle(t), startNetlog(t)
	oracle := map[string]string{"udp": o.UDP, "tcp": o.TCP, "relp": o.RELP}
	corpus, err := ReadCorpus(filepath.Join(testdata, "legacy-corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	used, count := map[string]int{}, 0
	for _, kind := range RelayKinds {
		r := StartRelay(t, kind, n.addr[kind.Network()], oracle[kind.Network()])
		readings := o.Through(t, "udp", r.UDP, corpus...)
		var entries []*record.Entry
		for e := n.next(t); !strings.Contains(e.Msg, markerText); e = n.next(t) {
			entries = append(entries, e)
		}
		frames, joined := relayedFrames(kind, readings)
		if len(entries) != len(frames) {
			t.Errorf("%s: netlog made %d entries of %d frames (rsyslog %d messages)", kind, len(entries), len(frames), len(readings))
			continue
		}
		compareFrames(t, string(kind), frames, entries, joined, used)
		count += len(entries)
	}
	t.Logf("%d messages compared; allowed differences: %v", count, used)
}

// relayedFrames is what netlog serve read as one message each of what a
// relay forwarded, from rsyslog's reading of the same bytes: over
// LF-framed TCP, a line that does not begin with <PRI> continues the
// message before it (docs/syslog-framing.md); rsyslog reads each line as
// one. It returns the frames and the readings as compareFrames takes them.
func relayedFrames(kind RelayKind, readings []Reading) (frames [][]byte, all []committed) {
	lf := kind == RsyslogForwardTCP || kind == RsyslogTraditionalTCP || kind == SyslogNGNetwork
	for _, r := range readings {
		all = append(all, committed{raw: []byte(r.Raw), r: r})
		if lf && len(frames) > 0 && !startsWithPRI.MatchString(r.Raw) {
			frames[len(frames)-1] = append(append(frames[len(frames)-1], '\n'), r.Raw...)
			continue
		}
		frames = append(frames, []byte(r.Raw))
	}
	return frames, all
}

var startsWithPRI = regexp.MustCompile(`^<[0-9]{1,3}>`)

// TestJoinLines: a frame that joins continuation lines is compared with
// the first line's reading and the text of all.
func TestJoinLines(t *testing.T) {
	rs := []committed{{raw: []byte("<14>Dec  1 02:43:05 vm m11 first"), r: Reading{Msg: " first"}},
		{raw: []byte("second line")}, {raw: []byte("job")}, {raw: []byte("s failed")}, {raw: []byte("<14>next")}}
	r, n := joinLines([]byte("<14>Dec  1 02:43:05 vm m11 first\nsecond line\n3 jobs failed"), rs)
	if n != 4 || r.Msg != " first\nsecond line\n3 jobs failed" {
		t.Errorf("joined %d, msg %q", n, r.Msg)
	}
	if r, n = joinLines(rs[0].raw, rs); n != 1 || r.Msg != " first" {
		t.Errorf("one line: %d, %q", n, r.Msg)
	}
}
