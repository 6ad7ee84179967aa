package transport

import (
	"bytes"
	"errors"
	"io"
	"testing"
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
// limit (octet-counted, LF or NUL, detected per frame), never a panic.
func FuzzSyslogReader(f *testing.F) {
	f.Add([]byte("14 <13>1 - - - - hi\n<13>Nov 24 07:15:48 vm app: old style\n<14>python form\x00"))
	f.Add([]byte("9999999999 x"))
	f.Add([]byte("12 abc"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 64
		sr := NewSyslogReader(bytes.NewReader(in), max)
		for range len(in) + 1 { // each frame consumes at least a byte
			p, err := sr.Next()
			if err != nil {
				return
			}
			if len(p) > max {
				t.Fatalf("a %d-byte frame over the limit of %d", len(p), max)
			}
		}
		if _, err := sr.Next(); err == nil {
			t.Fatal("more frames than bytes")
		}
	})
}
