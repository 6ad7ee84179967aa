package ascii

import (
	"math/rand/v2"
	"testing"
)

// slow are the byte-by-byte definitions.
var slow = map[string]struct {
	fast func(string, int) int
	in   func(byte) bool
}{
	"Printable": {Printable, func(c byte) bool { return c >= 0x20 && c < 0x7f }},
	"Graphic":   {Graphic, func(c byte) bool { return c > 0x20 && c < 0x7f }},
	"Bare":      {Bare, func(c byte) bool { return c > 0x20 && c < 0x7f && c != '"' && c != '=' }},
}

// TestAgainstBytes: each scan stops where the byte-by-byte loop does, for
// every byte value at every position of a word and beyond, and for random
// strings mostly of the kind.
func TestAgainstBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, f := range slow {
		check := func(s string, i int) {
			want := i
			for want < len(s) && f.in(s[want]) {
				want++
			}
			if got := f.fast(s, i); got != want {
				t.Fatalf("%s(%q, %d) = %d, want %d", name, s, i, got, want)
			}
		}
		for c := range 256 {
			for pos := range 20 {
				b := []byte("abcdefghijklmnopqrstuvwxyz")[:20]
				b[pos] = byte(c)
				for i := range 3 {
					check(string(b), i)
				}
			}
		}
		for range 100000 {
			b := make([]byte, rng.IntN(40))
			for j := range b {
				if rng.IntN(30) == 0 {
					b[j] = byte(rng.IntN(256))
				} else {
					b[j] = byte(0x20 + rng.IntN(0x5f))
				}
			}
			check(string(b), rng.IntN(len(b)+1))
		}
	}
}

// FuzzScans: the same, on any bytes.
func FuzzScans(f *testing.F) {
	f.Add("hello world=\"x\"\x7f\x80", 0)
	f.Fuzz(func(t *testing.T, s string, i int) {
		if i < 0 || i > len(s) {
			return
		}
		for name, fn := range slow {
			want := i
			for want < len(s) && fn.in(s[want]) {
				want++
			}
			if got := fn.fast(s, i); got != want {
				t.Fatalf("%s(%q, %d) = %d, want %d", name, s, i, got, want)
			}
		}
	})
}
