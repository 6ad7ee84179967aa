package pickle

import "github.com/netlog-go/netlog/record"

// FastDecode is the fast path alone: nil where it gives up.
func FastDecode(p []byte) *record.Entry { return fastDecode(nil, p) }

// GeneralDecode is the general machine alone.
func GeneralDecode(p []byte) (*record.Entry, error) { return decode(p) }
