package pickle

import "github.com/netlog-go/netlog/record"

// FastDecode is the fast path alone: nil where it gives up.
func FastDecode(p []byte) *record.Entry { return fastDecode(nil, p) }

// FastDecodeAfter is the fast path alone on p, by a decoder that has
// read prev first (its Flat then expects prev's keys).
func FastDecodeAfter(prev, p []byte) *record.Entry {
	d := new(fast)
	d.decode(nil, prev)
	return d.decode(nil, p)
}

// GeneralDecode is the general machine alone.
func GeneralDecode(p []byte) (*record.Entry, error) { return decode(p) }
