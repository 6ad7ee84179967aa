package pickle_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/record"
)

// memoRecord returns a protocol 2 record dict whose "msg" is value (an
// opcode and its argument), memoized once and referenced by refs more
// attributes.
func memoRecord(value []byte, refs int) []byte {
	p := []byte("\x80\x02}(X\x03\x00\x00\x00msg")
	p = append(append(p, value...), 'q', 1)
	for i := range refs {
		k := fmt.Sprintf("a%d", i)
		p = append(binary.LittleEndian.AppendUint32(append(p, 'X'), uint32(len(k))), k...)
		p = append(p, 'h', 1)
	}
	return append(p, 'u', '.')
}

func binUnicode(s string) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte{'X'}, uint32(len(s))), s...)
}

// bigLong is a LONG4 of n bytes, all 0x7f: a positive integer of about
// 2.4 digits per byte.
func bigLong(n int) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte{0x8b}, uint32(n)), strings.Repeat("\x7f", n)...)
}

// TestAmplificationRefused: a value stored once in the memo and
// referenced many times is charged at its full size each time, so the
// frames that expanded 500-fold are refused as ErrAmplified;
// the same values referenced once more still decode.
func TestAmplificationRefused(t *testing.T) {
	for _, c := range []struct {
		name  string
		value []byte
		refs  int
	}{
		{"memo string", binUnicode(strings.Repeat("A", 10000)), 700},
		{"memo big integer", bigLong(2048), 13600},
	} {
		p := memoRecord(c.value, c.refs)
		_, err := pickle.Decode(p)
		if !errors.Is(err, record.ErrAmplified) {
			t.Errorf("%s (%d bytes): err = %v, want ErrAmplified", c.name, len(p), err)
		}
		few := memoRecord(c.value, 1)
		e, err := pickle.Decode(few)
		if err != nil {
			t.Errorf("%s referenced twice: %v", c.name, err)
		} else if len(e.Attrs) < 1 {
			t.Errorf("%s referenced twice: %d attributes", c.name, len(e.Attrs))
		}
	}
}

// TestBigIntegerConvertedOnce: an integer referenced by many attributes
// becomes the same text, made once (the strings share their bytes).
func TestBigIntegerConvertedOnce(t *testing.T) {
	e, err := pickle.Decode(memoRecord(bigLong(100), 3))
	if err != nil {
		t.Fatal(err)
	}
	first := e.Attrs[0].Value.String()
	for _, a := range e.Attrs[1:] {
		s := a.Value.String()
		if s != first || len(s) < 200 || unsafe.StringData(s) != unsafe.StringData(first) {
			t.Errorf("attribute %s: a new text of the integer", a.Key)
		}
	}
}
