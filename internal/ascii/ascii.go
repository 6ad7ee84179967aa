// Package ascii finds the end of a run of ASCII bytes of a kind eight
// bytes at a time: the receive path scans every byte of a record at least
// twice (parsing it, then formatting it), and a byte-by-byte loop with
// two or four comparisons a byte was a tenth of its CPU time.
package ascii

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// word is s[i:i+8] as a little-endian word (the compiler makes it one
// load).
func word(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// below has the high bit of each byte set where that byte of w is below
// n (n at most 128), and possibly above bytes that are; zero exactly when
// no byte is below n.
func below(w uint64, n byte) uint64 { return (w - ones*uint64(n)) &^ w & highs }

// above is zero exactly when no byte of w is above n (n at most 127).
func above(w uint64, n byte) uint64 { return ((w + ones*uint64(127-n)) | w) & highs }

// equal is zero exactly when no byte of w is c.
func equal(w uint64, c byte) uint64 { return below(w^(ones*uint64(c)), 1) }

// Printable returns the offset of the first byte of s from i that is not
// printable ASCII (0x20 to 0x7e, space included), or len(s).
func Printable(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if w := word(s, i); below(w, 0x20)|above(w, 0x7e) != 0 {
			break
		}
	}
	for ; i < len(s) && s[i]-0x20 < 0x5f; i++ { // one comparison: below 0x20 wraps
	}
	return i
}

// Graphic returns the offset of the first byte of s from i that is not
// printable ASCII other than space (0x21 to 0x7e: RFC 5424's
// PRINTUSASCII), or len(s).
func Graphic(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if w := word(s, i); below(w, 0x21)|above(w, 0x7e) != 0 {
			break
		}
	}
	for ; i < len(s) && s[i]-0x21 < 0x5e; i++ {
	}
	return i
}

// Bare returns the offset of the first byte of s from i that is not
// printable ASCII other than space, '"' and '=' (what a text value may
// hold unquoted), or len(s).
func Bare(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if w := word(s, i); below(w, 0x21)|above(w, 0x7e)|equal(w, '"')|equal(w, '=') != 0 {
			break
		}
	}
	for ; i < len(s) && bareByte[s[i]]; i++ { // one load, where four comparisons were
	}
	return i
}

// bareByte is true for each byte Bare goes past.
var bareByte = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = c != '"' && c != '='
	}
	return t
}()
