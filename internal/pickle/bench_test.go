package pickle_test

import (
	"bufio"
	"os"
	"strconv"
	"testing"

	"github.com/netlog-go/netlog/internal/pickle"
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

// BenchmarkDecode decodes a record as Python's SocketHandler pickles it
// (protocol 2) and as netlog's encoder does.
func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name string
		p    []byte
	}{
		{"python", seed(b, "python-record-protocol-2")},
		{"netlog", pickle.Format.AppendEntry(nil, sampleEntry())},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.p)))
			for b.Loop() {
				if _, err := pickle.Decode(c.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
