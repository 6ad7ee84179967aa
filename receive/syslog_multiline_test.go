package receive_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/receive"
	"github.com/netlog-go/netlog/record"
)

// syslogServer serves srv's syslog stream listener on loopback, over TLS
// if cfg is set, until the test ends; its records go to the channel.
func syslogServer(t *testing.T, srv *receive.Server, cfg *tls.Config) (string, chan *record.Entry) {
	t.Helper()
	entries := make(chan *record.Entry, 1024)
	srv.Sink = receive.SinkFunc(func(e *record.Entry) error { entries <- e; return nil })
	srv.OnRefuse = func(r receive.Report) { t.Errorf("refused: %v", r) }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.ServeSyslogStream(ctx, ln) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ln.Addr().String(), entries
}

func nextEntry(t *testing.T, entries <-chan *record.Entry) *record.Entry {
	t.Helper()
	select {
	case e := <-entries:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no record within 30 s")
		return nil
	}
}

// TestSyslogMultilineStream: over TCP and TLS, LF-framed, a multi-line
// message is one record with all its lines, a continuation line that
// starts with digits is text, and the last message of a connection that
// stays open is delivered without more bytes coming, the connection read
// on after. Another connection, octet-counted, keeps its frames as they
// are.
func TestSyslogMultilineStream(t *testing.T) {
	certs := testcert.New(t)
	for _, c := range []struct {
		name string
		srv  *tls.Config
		cli  *tls.Config
	}{
		{"tcp", nil, nil},
		{"tls", &tls.Config{Certificates: []tls.Certificate{certs.Server}, MinVersion: tls.VersionTLS12},
			&tls.Config{RootCAs: certs.Pool, ServerName: "127.0.0.1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := &receive.Server{}
			addr, entries := syslogServer(t, srv, c.srv)
			dial := func() net.Conn {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { conn.Close() })
				if c.cli != nil {
					return tls.Client(conn, c.cli)
				}
				return conn
			}
			lf := dial()
			fmt.Fprint(lf, "<131>1 2026-12-01T09:21:16Z vmhost myapp 7 - - m11 first line\nsecond line\n"+
				"3 jobs failed\n\tat third\n<134>1 2026-12-01T09:21:17Z vmhost myapp 7 - - last, the connection open\n")
			for _, want := range []string{"m11 first line\nsecond line\n3 jobs failed\n\tat third", "last, the connection open"} {
				if e := nextEntry(t, entries); e.Msg != want || e.Syslog.Format != "rfc5424" {
					t.Errorf("record %q (%s), want %q", e.Msg, e.Syslog.Format, want)
				}
			}
			// The wait's deadline ended that message; the connection reads on.
			fmt.Fprint(lf, "<134>1 2026-12-01T09:21:18Z vmhost myapp 7 - - after the wait\nand a line\n")
			if e := nextEntry(t, entries); e.Msg != "after the wait\nand a line" {
				t.Errorf("record after the wait %q", e.Msg)
			}
			octet := dial()
			m := "<134>1 2026-12-01T09:21:18Z vmhost myapp 7 - - counted\nits own line"
			fmt.Fprintf(octet, "%d %s", len(m), m)
			if e := nextEntry(t, entries); e.Msg != "counted\nits own line" {
				t.Errorf("octet-counted record %q", e.Msg)
			}
			if st := srv.Stats(); st.JoinedLines != 4 || st.JoinCuts != 0 || st.Records != 4 {
				t.Errorf("stats: %d records, %d lines joined, %d cut; want 4, 4, 0", st.Records, st.JoinedLines, st.JoinCuts)
			}
		})
	}
}

// TestSyslogMultilineBound: a message that joining takes over MaxFrame is
// cut, and all of its text arrives, in records of at most MaxFrame bytes.
func TestSyslogMultilineBound(t *testing.T) {
	srv := &receive.Server{MaxFrame: 64}
	addr, entries := syslogServer(t, srv, nil)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	first := "<14>1 - h app - - - start"
	var lines []string
	for i := range 12 {
		lines = append(lines, fmt.Sprintf("line %02d of a long trace", i))
	}
	fmt.Fprint(conn, first+"\n"+strings.Join(lines, "\n")+"\n<14>1 - h app - - - after\n")
	var got []string
	for {
		e := nextEntry(t, entries)
		if e.Msg == "after" {
			break
		}
		got = append(got, e.Msg)
	}
	if all := strings.Join(got, "\n"); all != "start\n"+strings.Join(lines, "\n") {
		t.Errorf("text in %d records: %q", len(got), got)
	}
	if st := srv.Stats(); st.JoinCuts == 0 || len(got) < 2 {
		t.Errorf("%d records, %d cuts: the bound did not cut", len(got), st.JoinCuts)
	}
}

// TestSyslogMultilineSenders replays what real logging libraries sent
// over newline-framed TCP (the captures of internal/syslog/testdata/
// senders: Log4j 2 newLine, winston-syslog eol, pino-syslog newline),
// each into a server of its own: every multi-line message is one record
// that holds all its lines, and every other message a record of its own.
func TestSyslogMultilineSenders(t *testing.T) {
	files, err := filepath.Glob("../internal/syslog/testdata/senders/*-newline*.stream")
	if err != nil {
		t.Fatal(err)
	}
	eol, _ := filepath.Glob("../internal/syslog/testdata/senders/*-eol.stream")
	if files = append(files, eol...); len(files) < 6 {
		t.Fatalf("%d newline-framed captures, want at least 6: %q", len(files), files)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			stream, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			msgs := splitAtPRI(string(stream))
			srv := &receive.Server{}
			addr, entries := syslogServer(t, srv, nil)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conn.Write(stream)
			conn.Close()
			multi, joined := 0, uint64(0)
			for i, m := range msgs {
				e := nextEntry(t, entries)
				lines := strings.Split(m, "\n")
				if len(lines) > 1 {
					multi++
					joined += uint64(len(lines) - 1)
				}
				// The record's text is the message's end (after the
				// header the parser took): all its lines, and the end of
				// the first one.
				if !strings.HasSuffix(m, e.Msg) || len(lines) > 1 && !strings.Contains(e.Msg, lastWord(lines[0])+"\n"+strings.Join(lines[1:], "\n")) {
					t.Errorf("message %d of %d, %d lines: record %q (%s)\nsent %q", i+1, len(msgs), len(lines), e.Msg, e.Syslog.Format, m)
				}
			}
			// pino's JSON form escapes its line breaks: nothing to join.
			if multi == 0 && !strings.Contains(file, "-json") {
				t.Error("no multi-line message in the capture")
			}
			if st := srv.Stats(); st.Records != uint64(len(msgs)) || st.JoinedLines != joined {
				t.Errorf("%d records, %d lines joined; want %d and %d", st.Records, st.JoinedLines, len(msgs), joined)
			}
		})
	}
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

var priLine = regexp.MustCompile(`^<[0-9]{1,3}>`)

// splitAtPRI splits an LF-framed stream into its messages the plain way:
// a new one at each line that begins with <PRI>; blank lines at the end
// of a message dropped.
func splitAtPRI(stream string) []string {
	var msgs []string
	for _, l := range strings.Split(stream, "\n") {
		if priLine.MatchString(l) || len(msgs) == 0 {
			msgs = append(msgs, l)
		} else {
			msgs[len(msgs)-1] += "\n" + l
		}
	}
	for i, m := range msgs {
		msgs[i] = strings.TrimRight(m, "\n")
	}
	return msgs
}

// TestSyslogMultilinePython: Python's SysLogHandler over TCP sends a
// traceback as lines inside one NUL-terminated frame; it is one record.
func TestSyslogMultilinePython(t *testing.T) {
	py := peer.Path(t, "python3")
	srv := &receive.Server{}
	addr, entries := syslogServer(t, srv, nil)
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command(py, "-c", `import logging, logging.handlers as h, socket, sys
x = h.SysLogHandler(address=(sys.argv[1], int(sys.argv[2])), socktype=socket.SOCK_STREAM)
l = logging.getLogger("p"); l.addHandler(x)
try:
    1/0
except ZeroDivisionError:
    l.exception("failed")
l.error("after")
x.close()`, host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	e := nextEntry(t, entries)
	if !strings.HasPrefix(e.Msg, "failed\nTraceback (most recent call last):\n") ||
		!strings.HasSuffix(e.Msg, "\nZeroDivisionError: division by zero") {
		t.Errorf("record %q (%s), want the message and its whole traceback", e.Msg, e.Syslog.Format)
	}
	if e := nextEntry(t, entries); e.Msg != "after" {
		t.Errorf("next record %q, want %q", e.Msg, "after")
	}
	if st := srv.Stats(); st.Records != 2 || st.JoinedLines < 3 {
		t.Errorf("%d records, %d lines joined", st.Records, st.JoinedLines)
	}
}
