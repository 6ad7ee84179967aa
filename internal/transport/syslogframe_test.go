package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// readAll reads every message of in, joining lines if join, and returns
// them, the error that ended the stream and the counts of lines joined
// and messages cut.
func readAll(in string, max int, join bool) (msgs []string, err error, lines, cuts uint64) {
	sr := NewSyslogReader(strings.NewReader(in), max)
	var l, c atomic.Uint64
	if join {
		sr.Join = &LineJoin{Lines: &l, Cuts: &c}
	}
	for {
		p, err := sr.Next()
		if err != nil {
			return msgs, err, l.Load(), c.Load()
		}
		msgs = append(msgs, string(p))
	}
}

// octets frames each message with its octet count.
func octets(msgs ...string) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%d %s", len(m), m)
	}
	return b.String()
}

func TestSyslogReaderJoins(t *testing.T) {
	for _, c := range []struct {
		name, in    string
		max         int
		want        []string
		err         error // nil: io.EOF
		lines, cuts uint64
	}{
		{name: "a stack trace",
			in:   "<131>Dec  1 09:21:16 vmhost myapp[7]: m11 first line\nsecond line\n\tat third\n<134>Dec  1 09:21:17 vmhost myapp[7]: next\n",
			want: []string{"<131>Dec  1 09:21:16 vmhost myapp[7]: m11 first line\nsecond line\n\tat third", "<134>Dec  1 09:21:17 vmhost myapp[7]: next"}, lines: 2},
		{name: "continuation lines that start with digits are no octet counts",
			in:   "<13>a\n3 jobs failed\n99999999999 of them\n12 <13>b\n<13>c\n",
			want: []string{"<13>a\n3 jobs failed\n99999999999 of them\n12 <13>b", "<13>c"}, lines: 3},
		{name: "< that begins no valid PRI",
			in:   "<13>a\n<192>b\n<>c\n<1a>d\n<1234>e\n< 13>f\n<13\n<0>g\n<013>h\n",
			want: []string{"<13>a\n<192>b\n<>c\n<1a>d\n<1234>e\n< 13>f\n<13", "<0>g", "<013>h"}, lines: 6},
		{name: "plain lines before the first PRI stay one message each",
			in:   "x\n12 y\n<13>a\nb\n",
			want: []string{"x", "12 y", "<13>a\nb"}, lines: 1},
		{name: "blank lines inside are kept, at the end dropped",
			in:   "<13>a\n\nb\r\n\r\n\n<13>c\r\n\r\n\n",
			want: []string{"<13>a\n\nb\r", "<13>c\r"}, lines: 2},
		{name: "NUL ends a message, LF inside it is a line break",
			in:   "<12>pyname: a\nb\x00<12>c\x00d\ne\x00",
			want: []string{"<12>pyname: a\nb", "<12>c", "d\ne"}, lines: 2},
		{name: "the last message ends at EOF",
			in:   "<13>a\nb",
			want: []string{"<13>a\nb"}, lines: 1},
		{name: "cut before a line that does not fit",
			in: "<13>aaaa\nbbbb\ncccccccc\ndd\n<13>e\n", max: 16,
			want: []string{"<13>aaaa\nbbbb", "cccccccc\ndd", "<13>e"}, lines: 2, cuts: 1},
		{name: "a line longer than the limit is cut at it",
			in: "<13>a\n" + strings.Repeat("x", 30) + "\n<13>e\n", max: 16,
			want: []string{"<13>a\n" + strings.Repeat("x", 10), strings.Repeat("x", 16), strings.Repeat("x", 4), "<13>e"}, lines: 1, cuts: 2},
		{name: "a PRI line longer than the limit is cut at it",
			in: "<13>" + strings.Repeat("x", 20) + "\n<13>e\n", max: 16,
			want: []string{"<13>" + strings.Repeat("x", 12), strings.Repeat("x", 8), "<13>e"}, cuts: 1},
		{name: "a plain line over the limit is refused",
			in: "abcdefgh\n<13>a\n", max: 4, err: ErrFrameTooLarge},
		{name: "octet-counted stream: LF inside a frame, no joining",
			in:   octets("<13>a\nb", "c d", "<13>e") + "\n" + octets("<13>f"),
			want: []string{"<13>a\nb", "c d", "<13>e", "<13>f"}},
		{name: "octet-counted stream: an LF-framed line after a frame",
			in:   octets("<13>a") + "<13>b\n",
			want: []string{"<13>a"}, err: ErrBadFrame},
	} {
		t.Run(c.name, func(t *testing.T) {
			max := c.max
			if max == 0 {
				max = 1 << 10
			}
			got, err, lines, cuts := readAll(c.in, max, true)
			want := c.err
			if want == nil {
				want = io.EOF
			}
			if !reflect.DeepEqual(got, c.want) || !errors.Is(err, want) || lines != c.lines || cuts != c.cuts {
				t.Errorf("read %q, then %v; %d lines joined, %d cut\nwant %q, then %v; %d joined, %d cut",
					got, err, lines, cuts, c.want, want, c.lines, c.cuts)
			}
		})
	}
}

// TestSyslogReaderLines: without Join, every LF-framed line is a message,
// and a line that starts with digits is still no octet count.
func TestSyslogReaderLines(t *testing.T) {
	got, err, _, _ := readAll("<13>a\nb\n\n3 jobs failed\n<13>c\x00d", 64, false)
	if want := []string{"<13>a", "b", "3 jobs failed", "<13>c", "d"}; !reflect.DeepEqual(got, want) || err != io.EOF {
		t.Errorf("read %q, then %v; want %q", got, err, want)
	}
}

// TestSyslogReaderWaits: a message whose next line is not buffered yet is
// held while Wait's deadline runs, delivered when no byte comes within
// it, and joined to what comes within it. Over net.Pipe, each write
// waits for its reader: nothing here depends on how fast the machine is.
func TestSyslogReaderWaits(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	defer server.Close()
	writes := make(chan string, 4)
	go func() {
		for w := range writes {
			if _, err := client.Write([]byte(w)); err != nil {
				t.Error(err)
				return
			}
		}
		client.Close()
	}()
	sr := NewSyslogReader(server, 1<<10)
	var waits atomic.Int64
	var next string // what the peer sends during the next wait; "" sends nothing
	sr.Join = &LineJoin{Wait: func(waiting bool) {
		if !waiting {
			server.SetReadDeadline(time.Time{})
			return
		}
		waits.Add(1)
		if next == "" {
			server.SetReadDeadline(time.Now()) // the peer pauses
			return
		}
		writes <- next
		next = ""
	}}
	writes <- "<13>a\nb\n"
	next = "c\n<13>d\n"
	expect(t, sr, "<13>a\nb\nc")
	expect(t, sr, "<13>d") // held until the deadline: nothing more came
	if n := waits.Load(); n != 2 {
		t.Errorf("%d waits, want 2", n)
	}
	writes <- "<13>e\nf"
	close(writes)
	expect(t, sr, "<13>e\nf") // the peer's close ends it
	if _, err := sr.Next(); err != io.EOF {
		t.Errorf("after the last message: %v, want EOF", err)
	}
}

func expect(t *testing.T, sr *SyslogReader, want string) {
	t.Helper()
	if p, err := sr.Next(); string(p) != want || err != nil {
		t.Fatalf("read %q, %v; want %q", p, err, want)
	}
}

// TestSyslogReaderErrorEndsMessage: a read error while waiting for the
// next line ends the message: it is delivered, and the next read meets
// the error again.
func TestSyslogReaderErrorEndsMessage(t *testing.T) {
	sr := NewSyslogReader(io.MultiReader(strings.NewReader("<13>a\nb\n"), errReader{os.ErrDeadlineExceeded}), 64)
	sr.Join = &LineJoin{}
	expect(t, sr, "<13>a\nb")
	if _, err := sr.Next(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("then %v, want the read's error", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// syslogStream is 1,000 messages of ~120 bytes, LF-framed or octet-counted;
// with traces, every tenth one has a 5-line stack trace.
func syslogStream(octet, traces bool) []byte {
	var b strings.Builder
	for i := range 1000 {
		m := fmt.Sprintf("<134>Dec  1 09:21:16 vmhost myapp[4069]: request %d served in 12 ms for user alice from 192.0.2.7 path /api/v1/items", i)
		if traces && i%10 == 0 {
			m += "\njava.lang.IllegalStateException: boom\n\tat A.main(A.java:25)\n\tat B.run(B.java:7)\nCaused by: x\n\t... 1 more"
		}
		if octet {
			fmt.Fprintf(&b, "%d %s", len(m), m)
		} else {
			b.WriteString(m + "\n")
		}
	}
	return []byte(b.String())
}

func BenchmarkSyslogReader(b *testing.B) {
	for _, c := range []struct {
		name          string
		octet, traces bool
		join          bool
	}{
		{"octet", true, false, false},
		{"lf", false, false, false},
		{"lf-joined", false, false, true},
		{"lf-traces-joined", false, true, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			stream := syslogStream(c.octet, c.traces)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			msgs := 0
			for b.Loop() {
				sr := NewSyslogReader(bytes.NewReader(stream), 1<<20)
				if c.join {
					sr.Join = &LineJoin{}
				}
				for {
					if _, err := sr.Next(); err != nil {
						break
					}
					msgs++
				}
			}
			b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// TestSyslogReaderBuffersInCallers: over a caller's bufio.Reader, of any
// size, a SyslogReader buffers nothing the caller cannot see: after the
// first message, the rest is still in the caller's reader's Buffered().
// A receiver hands its records over when that is 0; bytes buffered in
// a reader of the SyslogReader's own would leave them waiting for more.
func TestSyslogReaderBuffersInCallers(t *testing.T) {
	for _, in := range []string{"5 hello5 world", "<13>hello\n<13>world\n"} {
		br := bufio.NewReaderSize(strings.NewReader(in), 4096)
		r := NewSyslogReader(br, 1024)
		r.Borrow = 1024
		if _, err := r.Next(); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if want := len(in) / 2; br.Buffered() != want {
			t.Errorf("%q: %d bytes left in the caller's reader after the first message, want %d", in, br.Buffered(), want)
		}
	}
}
