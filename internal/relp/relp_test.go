package relp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

func TestFrames(t *testing.T) {
	var b []byte
	b = Append(b, 1, "open", []byte(Offers))
	b = Append(b, 2, "syslog", []byte("<13>1 - - - - - hi\nthere"))
	b = Append(b, 3, "close", nil)
	r := NewReader(bytes.NewReader(b), 1024)
	for _, want := range []Frame{{1, "open", []byte(Offers)}, {2, "syslog", []byte("<13>1 - - - - - hi\nthere")}, {3, "close", nil}} {
		f, err := r.Next()
		if err != nil || f.Txnr != want.Txnr || f.Command != want.Command || !bytes.Equal(f.Data, want.Data) {
			t.Fatalf("got %d %q %q, %v; want %d %q %q", f.Txnr, f.Command, f.Data, err, want.Txnr, want.Command, want.Data)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("at the end: %v", err)
	}
}

// TestLargeFrames: data that fits in the read buffer is handed over in
// it, larger data is read into the Buffer; either whole, and either cut
// short is an error.
func TestLargeFrames(t *testing.T) {
	for _, n := range []int{60 << 10, 200 << 10} { // under and over the 64 KiB read buffer
		data := bytes.Repeat([]byte("0123456789abcdef"), n/16)
		b := Append(Append(nil, 1, "syslog", data), 2, "syslog", []byte("after"))
		r := NewReader(bytes.NewReader(b), 1<<20)
		for _, want := range [][]byte{data, []byte("after")} {
			if f, err := r.Next(); err != nil || !bytes.Equal(f.Data, want) {
				t.Fatalf("%d bytes: got %d bytes, %v; want %d", n, len(f.Data), err, len(want))
			}
		}
		cut := Append(nil, 1, "syslog", data)
		if _, err := NewReader(bytes.NewReader(cut[:len(cut)-2]), 1<<20).Next(); !errors.Is(err, ErrFrame) {
			t.Errorf("%d bytes cut short: %v, want ErrFrame", n, err)
		}
	}
}

func TestBadFrames(t *testing.T) {
	for in, want := range map[string]error{
		"1 syslog 99999 x":    ErrTooLarge,
		"x syslog 1 a\n":      ErrFrame,
		"01 syslog 1 a\n":     ErrFrame,
		"1 SYSLOG 1 a\n":      ErrFrame,
		"1 syslog 2 a\n":      ErrFrame, // ends inside the data
		"1 syslog 1 ab\n":     ErrFrame, // no LF after the data
		"1 syslog 1a\n":       ErrFrame,
		"1 close 0 \n":        ErrFrame,
		"1234567890 open 0\n": ErrFrame,
		"1 syslog":            ErrFrame,
	} {
		if _, err := NewReader(bytes.NewReader([]byte(in)), 1024).Next(); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", in, err, want)
		}
	}
}

// FuzzReader: any byte stream reads as frames within the limit, ending in
// io.EOF or a frame error, never a panic; what reads writes back the same;
// and it reads the same a byte at a time, where no header is whole in the
// read buffer and each is read byte by byte.
func FuzzReader(f *testing.F) {
	f.Add([]byte("1 open 85 relp_version=0\nrelp_software=librelp,1.2.3\ncommands=syslog\n2 syslog 5 hello\n3 close 0\n"))
	f.Add([]byte("1 rsp 6 200 OK\n0 serverclose 0\n"))
	f.Add([]byte("1 syslog 999999999 x"))
	f.Add([]byte("12 syslog 3 abc\n013 syslog 1 a\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), 256)
		slow := NewReader(iotest.OneByteReader(bytes.NewReader(in)), 256)
		for {
			fr, err := r.Next()
			sf, serr := slow.Next()
			if fmt.Sprint(err) != fmt.Sprint(serr) || fr.Txnr != sf.Txnr || fr.Command != sf.Command || !bytes.Equal(fr.Data, sf.Data) {
				t.Fatalf("read whole: %+v, %v; a byte at a time: %+v, %v", fr, err, sf, serr)
			}
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrFrame) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			again, err := NewReader(bytes.NewReader(Append(nil, fr.Txnr, fr.Command, fr.Data)), 256).Next()
			if err != nil || again.Txnr != fr.Txnr || again.Command != fr.Command || !bytes.Equal(again.Data, fr.Data) {
				t.Fatalf("%+v does not survive writing: %+v, %v", fr, again, err)
			}
		}
	})
}

// BenchmarkReader: Next over frames of 200-byte messages, read from
// memory; ns/op is per frame.
func BenchmarkReader(b *testing.B) {
	msg := bytes.Repeat([]byte("x"), 200)
	var in []byte
	for i := range 1000 {
		in = Append(in, 1000+i, "syslog", msg)
	}
	src := bytes.NewReader(in)
	r := NewReader(src, 1024)
	b.SetBytes(int64(len(in) / 1000))
	b.ReportAllocs()
	for i := range b.N {
		if i%1000 == 0 {
			src.Reset(in)
		}
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReaderBuffersInCallers: over a caller's bufio.Reader, of any size,
// a Reader buffers nothing the caller cannot see (see
// transport.TestSyslogReaderBuffersInCallers).
func TestReaderBuffersInCallers(t *testing.T) {
	first := Append(nil, 1, "syslog", []byte("hello"))
	in := Append(first, 2, "syslog", []byte("world"))
	br := bufio.NewReaderSize(bytes.NewReader(in), 4096)
	r := NewReader(br, 1024)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if want := len(in) - len(first); br.Buffered() != want {
		t.Errorf("%d bytes left in the caller's reader after the first frame, want %d", br.Buffered(), want)
	}
}
