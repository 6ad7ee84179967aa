package record_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/netlog-go/netlog/record"
)

// TestJSONNumberLimit: a number of a million digits (1.9 s of CPU to
// convert before) is refused; one of MaxNumberLen digits is read.
func TestJSONNumberLimit(t *testing.T) {
	_, err := record.DecodeJSON([]byte(`{"msg":"x","n":` + strings.Repeat("7", 1e6) + `}`))
	if err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("a million digits: err = %v", err)
	}
	e, err := record.DecodeJSON([]byte(`{"msg":"x","n":` + strings.Repeat("7", record.MaxNumberLen) + `}`))
	if err != nil || len(e.Attrs[0].Value.String()) != record.MaxNumberLen {
		t.Errorf("%d digits: %v", record.MaxNumberLen, err)
	}
}

// TestJSONNestedKeysBudget: the text form repeats a group's path before
// each of its keys, so long keys nested deep are charged for every leaf.
func TestJSONNestedKeysBudget(t *testing.T) {
	key := strings.Repeat("k", 1000)
	nest := func(leaves int) []byte {
		var b strings.Builder
		b.WriteString(`{"msg":"x"`)
		for range 60 {
			b.WriteString(`,"` + key + `":{"a":{}`)
		}
		for i := range leaves {
			b.WriteString(`,"` + string(rune('a'+i%26)) + strings.Repeat("b", i/26) + `":1`)
		}
		b.WriteString(strings.Repeat("}", 61))
		return []byte(b.String())
	}
	if _, err := record.DecodeJSON(nest(2000)); !errors.Is(err, record.ErrAmplified) {
		t.Errorf("2,000 leaves under a 60 KB path: err = %v, want ErrAmplified", err)
	}
	if _, err := record.DecodeJSON(nest(1)); err != nil {
		t.Errorf("one leaf under a 60 KB path: %v", err)
	}
}

// TestBudget: the limit is 4× the payload plus 4 KiB, capped at 16 MiB or,
// for a larger payload, its own size plus 4 KiB.
func TestBudget(t *testing.T) {
	for _, c := range []struct{ payload, limit int }{{0, 4096}, {1000, 8096}, {1 << 20, 4<<20 + 4096}, {10 << 20, 16 << 20}, {100 << 20, 100<<20 + 4096}} {
		b := record.NewBudget(c.payload)
		if b.Limit() != c.limit {
			t.Errorf("payload %d: limit %d, want %d", c.payload, b.Limit(), c.limit)
		}
		if b.Charge(c.limit) != nil || !errors.Is(b.Charge(1), record.ErrAmplified) {
			t.Errorf("payload %d: the limit is not where Charge refuses", c.payload)
		}
	}
}
