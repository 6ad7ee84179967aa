package receive

import (
	"bufio"
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlog-go/netlog/record"
)

// pythonPickles reads the pickles Python makes of a LogRecord, from the
// decoder's seed corpus (made by scripts/fuzz-seeds.py).
func pythonPickles(f *testing.F) [][]byte {
	files, err := filepath.Glob("../internal/pickle/testdata/fuzz/FuzzDecode/python-*")
	if err != nil || len(files) == 0 {
		f.Fatalf("no Python pickles in the decoder's corpus: %v", err)
	}
	var out [][]byte
	for _, name := range files {
		out = append(out, pickleSeed(f, filepath.Base(name)))
	}
	return out
}

// FuzzReceivePath runs bytes from the wire through the server's path for
// netlog frames — the length-prefix de-framer (and, the whole input as one
// datagram, the datagram splitter), the payload decoder (pickle or JSON)
// and the Printer in both forms — as serveConn and servePacket do. No
// input makes it panic; each record's output is bounded by its payload's
// budget; the text form has exactly one record line per record, every
// other line a TAB continuation, and no raw control; the JSON form one
// valid object per line. A record decoded into a reused Entry, as a
// stream connection does, prints as a fresh one does.
func FuzzReceivePath(f *testing.F) {
	seeds := [][]byte{
		memoFrame(unicodeOp(strings.Repeat("A", 1000)), 100),
		memoFrame(bigLong(2048), 10),
		dupFrame(8192),
		[]byte(`{"name":"app","msg":"m\n2026-01-01T00:00:00.000000Z x: y","levelno":20,"g":{"k\u001b":[1,2.5,null,"\u009b"]}}`),
		[]byte(`{"msg":"x","n":123456789012345678901234567890}`),
	}
	for _, c := range forgeAttempts {
		if !c.syslog {
			seeds = append(seeds, c.payload)
		}
	}
	seeds = append(seeds, pythonPickles(f)...)
	for _, s := range seeds {
		f.Add(framed(s))
		f.Add(append(framed(s), framed(s)...))
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		var payloads [][]byte
		fr := frames.reader(&Server{}, &conn{br: bufio.NewReader(bytes.NewReader(wire))})
		for {
			p, err := fr.Next()
			if err != nil {
				break
			}
			payloads = append(payloads, bytes.Clone(p))
		}
		if p, err := frames.split(wire); err == nil {
			payloads = append(payloads, p)
		}
		room := &chunk{size: chunkSize{frames: 2}} // decoded into as a stream's chunk is, again and again
		for i, p := range payloads {
			e, err := frames.decode(nil, p)
			reused, rerr := frames.into(nil, room, i%2, p)
			if (err == nil) != (rerr == nil) {
				t.Fatalf("decode: %v; into a reused Entry: %v", err, rerr)
			}
			if err != nil {
				if e != nil {
					t.Fatalf("an error (%v) and a record", err)
				}
				continue
			}
			if got, want := appendText(nil, reused, &textState{}), appendText(nil, e, &textState{}); !bytes.Equal(got, want) {
				t.Fatalf("into a reused Entry:\n%s\nfresh:\n%s", got, want)
			}
			budget := record.NewBudget(len(p))
			for _, asJSON := range []bool{false, true} {
				var out bytes.Buffer
				if err := (&Printer{W: &out, JSON: asJSON}).Write(e); err != nil {
					t.Fatal(err)
				}
				// Escaping writes at most 6 bytes per byte counted (a control
				// as \u00XX in JSON); the fields every record has, 2 KiB.
				if limit := 6*budget.Limit() + 2048; out.Len() > limit {
					t.Fatalf("%d bytes printed for a %d-byte payload (budget %d)", out.Len(), len(p), budget.Limit())
				}
				if asJSON {
					checkJSON(t, out.Bytes(), 1)
				} else {
					checkText(t, out.Bytes(), 1)
				}
			}
		}
	})
}
