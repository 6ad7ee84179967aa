package transport

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// countingAlloc is an Allocator with a budget that counts what is out.
type countingAlloc struct{ out, budget int }

var errNoMemory = errors.New("no memory")

func (a *countingAlloc) Alloc(n int) ([]byte, error) {
	if a.out+n > a.budget {
		return nil, errNoMemory
	}
	a.out += n
	return make([]byte, n), nil
}

func (a *countingAlloc) Free(b []byte) { a.out -= cap(b) }

// TestReadersAllocate: each reader takes its buffer from its Allocator,
// returns the Allocator's error, and gives the buffer back on Release.
func TestReadersAllocate(t *testing.T) {
	frames := append(frameOf("small"), frameOf(strings.Repeat("x", 100))...)
	syslog := "5 small\n100 " + strings.Repeat("y", 100)
	for name, r := range map[string]interface {
		Next() ([]byte, error)
		Release()
	}{
		"frames":       NewFrameReader(bytes.NewReader(frames), 1000),
		"syslog":       NewSyslogReader(strings.NewReader(syslog), 1000),
		"syslog lines": NewSyslogReader(strings.NewReader("small\n"+strings.Repeat("y", 100)+"\n"), 1000),
	} {
		a := &countingAlloc{budget: 64}
		switch r := r.(type) {
		case *FrameReader:
			r.A = a
		case *SyslogReader:
			r.A = a
		}
		if p, err := r.Next(); err != nil || string(p) != "small" || a.out == 0 {
			t.Errorf("%s: first frame %q, %v; %d bytes allocated", name, p, err, a.out)
		}
		if _, err := r.Next(); !errors.Is(err, errNoMemory) {
			t.Errorf("%s: a frame over the budget: %v", name, err)
		}
		r.Release()
		if a.out != 0 {
			t.Errorf("%s: %d bytes still out after Release", name, a.out)
		}
	}
}

func frameOf(s string) []byte {
	b := BeginFrame(nil)
	b = append(b, s...)
	EndFrame(b, 0)
	return b
}
