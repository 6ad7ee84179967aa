package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzFrameReader: any byte stream de-frames into frames within the
// limit, ending in io.EOF or one of the frame errors, never a panic.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x05hello\x00\x00\x00\x00"))
	f.Add([]byte("\xff\xff\xff\xffx"))     // a 4 GiB prefix
	f.Add([]byte("\x00\x00\x00\x10short")) // truncated
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 64
		fr := NewFrameReader(bytes.NewReader(in), max)
		for {
			p, err := fr.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrTruncated) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(p) > max {
				t.Fatalf("a %d-byte frame over the limit of %d", len(p), max)
			}
		}
	})
}

// FuzzSyslogReader: any byte stream splits into syslog frames within the
// limit (octet-counted, or LF or NUL as the first frame decides), lines
// joined or not, never a panic, never an empty line, each call consuming
// bytes. On an LF-framed stream, no text is lost: the frames hold every
// byte of the stream up to where the reading stopped, but the LF, CR and
// NUL bytes (line ends, blank lines); and joined lines never swallow a
// line that begins with <PRI>.
func FuzzSyslogReader(f *testing.F) {
	f.Add([]byte("14 <13>1 - - - - hi\n<13>Nov 24 07:15:48 vm app: old style\n<14>python form\x00"))
	f.Add([]byte("9999999999 x"))
	f.Add([]byte("12 abc"))
	f.Add([]byte("<13>Nov 24 07:15:48 vm app: first\n3 jobs failed\n\tat x\r\n\n<999>no PRI\n<14>next\x00<12>py\nline\x00"))
	f.Add([]byte("plain\n<13>" + strings.Repeat("x", 70) + "\ncontinued " + strings.Repeat("y", 60) + "\n<13>e"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 64
		for _, join := range []bool{false, true} {
			var frames [2][]string // without and with Borrow
			var errs [2]error
			var sr *SyslogReader
			var text []byte
			var err error
			for borrow := range 2 {
				sr = NewSyslogReader(iotest.HalfReader(bytes.NewReader(in)), max) // some frames buffered whole, some not
				if join {
					sr.Join = &LineJoin{}
				}
				sr.Borrow = borrow * max / 2
				text, err = nil, nil
				for n := 0; err == nil; n++ {
					if n > len(in) {
						t.Fatal("more frames than bytes")
					}
					var p []byte
					if p, err = sr.Next(); err == nil {
						checkFrame(t, p, max, sr.framing == LF, join)
						text = append(text, p...)
						frames[borrow] = append(frames[borrow], string(p))
					}
				}
				errs[borrow] = err
			}
			if !slices.Equal(frames[0], frames[1]) || fmt.Sprint(errs[0]) != fmt.Sprint(errs[1]) {
				t.Fatalf("with Borrow: %q, %v; without: %q, %v", frames[1], errs[1], frames[0], errs[0])
			}
			if err != io.EOF && !errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrBadFrame) {
				t.Fatalf("unexpected error %v", err)
			}
			if sr.framing != LF {
				continue
			}
			got, sent := withoutLineEnds(text), withoutLineEnds(in)
			if !bytes.HasPrefix(sent, got) || err == io.EOF && len(got) != len(sent) {
				t.Fatalf("join %v: text lost: frames hold %q of %q, then %v", join, got, sent, err)
			}
		}
	})
}

// checkFrame checks a frame of an LF-framed stream (lf) or not, its lines
// joined or not.
func checkFrame(t *testing.T, p []byte, max int, lf, join bool) {
	if len(p) > max {
		t.Fatalf("a %d-byte frame over the limit of %d", len(p), max)
	}
	if lf && len(p) == 0 { // an octet count may be 0
		t.Fatal("an empty line frame")
	}
	for i, c := range p {
		if pri, decided := priStart(p[i+1:]); lf && join && c == '\n' && pri && decided {
			t.Fatalf("frame %q joins a line that begins with <PRI>", p)
		}
	}
}

func withoutLineEnds(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if c != '\n' && c != '\r' && c != 0 {
			out = append(out, c)
		}
	}
	return out
}
