package receive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/relp"
	"github.com/netlog-go/netlog/internal/syslog/syslogtest"
	"github.com/netlog-go/netlog/receive"
)

// lineWriter hands each line a Printer writes to a channel, in Write: a
// line is on the channel before the batch holding it counts as written.
type lineWriter chan []byte

func (w lineWriter) Write(p []byte) (int, error) {
	for _, l := range bytes.SplitAfter(p, []byte("\n")) {
		if len(l) > 0 {
			w <- append([]byte(nil), l...)
		}
	}
	return len(p), nil
}

// corpusServer runs a Server printing JSON to lines on a syslog TCP, UDP
// and RELP listener.
type corpusServer struct {
	srv            *receive.Server
	lines          lineWriter
	tcp, udp, relp string
}

func startCorpusServer(t *testing.T) *corpusServer {
	cs := &corpusServer{lines: make(lineWriter, 16)}
	cs.srv = &receive.Server{
		Sink:     &receive.Printer{W: cs.lines, JSON: true},
		OnRefuse: func(r receive.Report) { t.Errorf("refused: %v", r) },
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	serve := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				t.Error(err)
			}
		}()
	}
	for _, ln := range []*string{&cs.tcp, &cs.relp} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		*ln = l.Addr().String()
		if ln == &cs.tcp {
			serve(func() error { return cs.srv.ServeSyslogStream(ctx, l) })
		} else {
			serve(func() error { return cs.srv.ServeRELP(ctx, l) })
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cs.udp = pc.LocalAddr().String()
	serve(func() error { return cs.srv.ServeSyslogPacket(ctx, pc) })
	return cs
}

// printedLine is what the tests read of a printed JSON line.
type printedLine struct {
	Msg      string `json:"msg"`
	Format   string `json:"syslog_format"`
	Hostname string `json:"hostname"`
	AppName  string `json:"appname"`
	ProcID   string `json:"procid"`
	MsgID    string `json:"msgid"`
}

// printed waits for the next printed line and decodes it.
func (cs *corpusServer) printed(t *testing.T) printedLine {
	t.Helper()
	var p printedLine
	select {
	case l := <-cs.lines:
		if err := json.Unmarshal(l, &p); err != nil {
			t.Fatalf("printed %q: %v", l, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no line printed within 30 s")
	}
	return p
}

// TestSyslogMalformedCorpus sends each message of the malformed corpus
// over TCP (octet-counted and LF-terminated), UDP and RELP to a Server
// with a JSON Printer: no message loses its text, each is read in the
// format the corpus names, a raw one holds the whole message and is
// counted as unparsed, and RELP acknowledges a message only once it is
// printed.
func TestSyslogMalformedCorpus(t *testing.T) {
	cases := syslogtest.Corpus(t, "../internal/syslog/testdata/malformed.txt")
	cs := startCorpusServer(t)
	tcp := dial(t, "tcp", cs.tcp)
	tcpLF := dial(t, "tcp", cs.tcp) // a connection's first frame decides its framing
	udp := dial(t, "udp", cs.udp)
	rc := dial(t, "tcp", cs.relp)
	rr := relp.NewReader(rc, 1<<16)
	relpCall(t, rc, rr, 1, "open", []byte("relp_version=0\nrelp_software=test\ncommands=syslog"))

	type sender struct {
		name string
		send func(i int, msg string) (skip bool)
		// acked, if set, runs after sending; the line must already be printed.
		acked func(i int)
	}
	senders := []sender{
		{name: "tcp octet-counted", send: func(_ int, m string) bool { fmt.Fprintf(tcp, "%d %s", len(m), m); return false }},
		{name: "tcp LF", send: func(_ int, m string) bool {
			m = strings.TrimRight(m, "\x00")
			if strings.ContainsAny(m, "\r\x00") { // a NUL inside ends the frame; lines are joined
				return true
			}
			fmt.Fprintf(tcpLF, "%s\n", m)
			return false
		}},
		{name: "udp", send: func(_ int, m string) bool { udp.Write([]byte(m)); return false }},
		{name: "relp", send: func(i int, m string) bool {
			if _, err := rc.Write(relp.Append(nil, i+2, "syslog", []byte(m))); err != nil {
				t.Fatal(err)
			}
			return false
		}, acked: func(i int) {
			f, err := rr.Next()
			if err != nil || f.Txnr != i+2 || f.Command != "rsp" || !strings.HasPrefix(string(f.Data), relp.OK) {
				t.Fatalf("RELP answer %+v, %v; want %d rsp %s", f, err, i+2, relp.OK)
			}
			if len(cs.lines) == 0 {
				t.Errorf("RELP acknowledged message %d before it was printed", i+2)
			}
		}},
	}
	for _, s := range senders {
		lost, wrong, skipped := 0, 0, 0
		for i, c := range cases {
			before := cs.srv.Stats().Unparsed
			if s.send(i, c.Message) {
				skipped++
				continue
			}
			if s.acked != nil {
				s.acked(i)
			}
			p := cs.printed(t)
			msg, format := p.Msg, p.Format
			counted := cs.srv.Stats().Unparsed - before
			whole := syslogtest.Text(strings.TrimRight(c.Message, "\x00\r\n"))
			switch {
			case !strings.Contains(msg, c.Text):
				lost++
				t.Errorf("%s: %s: text lost: printed msg %q as %s, want %q in it", s.name, c.Source, msg, format, c.Text)
			case format != c.Format || (format == "raw") != (counted == 1) || counted > 1 || (format == "raw" && msg != whole):
				wrong++
				t.Errorf("%s: %s: printed as %s (%d counted unparsed), msg %q; want %s", s.name, c.Source, format, counted, msg, c.Format)
			}
		}
		if lost+wrong > 0 {
			t.Errorf("%s: %d of %d messages lost their text, %d more were read wrongly", s.name, lost, len(cases)-skipped, wrong)
		}
		t.Logf("%s: %d messages sent (%d with a CR or NUL inside skipped)", s.name, len(cases)-skipped, skipped)
	}
}

func dial(tb testing.TB, network, addr string) net.Conn {
	tb.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// relpCall sends one RELP command and checks that it is answered 200.
func relpCall(t *testing.T, c net.Conn, rr *relp.Reader, txnr int, cmd string, data []byte) {
	t.Helper()
	if _, err := c.Write(relp.Append(nil, txnr, cmd, data)); err != nil {
		t.Fatal(err)
	}
	f, err := rr.Next()
	if err != nil || f.Txnr != txnr || !strings.HasPrefix(string(f.Data), relp.OK) {
		t.Fatalf("RELP %s: answer %+v, %v", cmd, f, err)
	}
}
