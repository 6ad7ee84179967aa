package pickle_test

import (
	"bufio"
	"bytes"
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
// pools them does; "general" is the machine alone.
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
