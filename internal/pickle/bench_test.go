package pickle_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"

	ogorek "github.com/kisielk/og-rek"

	"github.com/netlog-go/netlog/internal/entrytest"
	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/record"
)

// seed reads the payload of a file in the fuzz seed corpus.
func seed(tb testing.TB, name string) []byte {
	tb.Helper()
	f, err := os.Open("testdata/fuzz/FuzzDecode/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	sc.Scan() // "go test fuzz v1"
	sc.Scan()
	line := sc.Text()
	s, err := strconv.Unquote(line[len("[]byte(") : len(line)-1])
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(s)
}

// BenchmarkDecode decodes, beside og-rek (which only unpickles: it makes
// no Entry), a record as Python's SocketHandler sends it (protocol 1,
// scalar extras: the fast path), as netlog's encoder does, and Python's
// record with a dict, a list and a big integer at protocol 2 (the general
// machine). "into" reuses one Entry (DecodeInto), as a receiver that
// pools them does; "into-varying" too, over records whose message and
// time change from one to the next, as a sender's do; "general" is the
// machine alone.
func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name string
		p    []byte
	}{
		{"python-sockethandler", seed(b, "python-sockethandler-flat")},
		{"netlog", pickle.Format.AppendEntry(nil, entrytest.Typical())},
		{"python-nested-protocol-2", seed(b, "python-record-protocol-2")},
	} {
		b.Run(c.name+"/decode", func(b *testing.B) {
			entrytest.Bench(b, c.p, func() error { _, err := pickle.Decode(c.p); return err })
		})
		var e record.Entry
		b.Run(c.name+"/into", func(b *testing.B) {
			entrytest.Bench(b, c.p, func() error { return pickle.DecodeInto(&e, c.p) })
		})
		if c.name == "python-sockethandler" {
			b.Run(c.name+"/into-varying", func(b *testing.B) { benchVarying(b, &e, c.p) })
		}
		b.Run(c.name+"/general", func(b *testing.B) {
			entrytest.Bench(b, c.p, func() error { _, err := pickle.GeneralDecode(c.p); return err })
		})
		b.Run(c.name+"/og-rek", func(b *testing.B) {
			entrytest.Bench(b, c.p, func() error {
				_, err := ogorek.NewDecoder(bytes.NewReader(c.p)).Decode()
				return err
			})
		})
	}
}

// benchVarying decodes into e, in turn, four copies of Python's record p
// with other messages (of the same length) and times.
func benchVarying(b *testing.B, e *record.Entry, p []byte) {
	var ps [4][]byte
	for i := range ps {
		ps[i] = bytes.Replace(p, []byte("user alice"), []byte(fmt.Sprintf("user %05d", i)), 1)
		at := bytes.IndexByte(ps[i], 'G') // created: a float, big-endian
		ps[i][at+7] += byte(i)
	}
	n := 0
	entrytest.Bench(b, p, func() error {
		n++
		return pickle.DecodeInto(e, ps[n%len(ps)])
	})
}
