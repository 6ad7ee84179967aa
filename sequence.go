package netlog

import (
	"math/rand/v2"
	"strconv"

	"github.com/netlog-go/netlog/internal/forward"
	"github.com/netlog-go/netlog/internal/syslog"
)

// newInstanceID returns 16 hex digits of a random 64-bit number. It comes
// from the runtime's generator (math/rand/v2's global source), which the
// runtime seeds from the kernel's randomness at start (AT_RANDOM or
// getrandom): unpredictable across processes without linking crypto/rand
// into every program that logs (scripts/sizecheck.sh). Two handlers
// collide with odds 2^-64; among a million ids, about 3·10^-8.
func newInstanceID() string {
	var b [16]byte
	s := strconv.AppendUint(b[:0], rand.Uint64(), 16)
	out := make([]byte, 16-len(s), 16)
	for i := range out {
		out[i] = '0'
	}
	return string(append(out, s...))
}

// nextSeq returns the next sequence number of c's records, from 1; ok is
// false if c does not number them.
func (c *core) nextSeq() (seq uint64, ok bool) {
	if c.seqID == "" {
		return 0, false
	}
	return c.seq.Add(1), true
}

// appendSeqFields appends the fields netlog_seq and netlog_id, if c
// numbers its records.
func (c *core) appendSeqFields(b []byte) []byte {
	seq, ok := c.nextSeq()
	if !ok {
		return b
	}
	enc := c.format.Enc
	b = enc.Uint(enc.Key(b, forward.SeqField), seq)
	return enc.String(enc.Key(b, forward.IDField), c.seqID)
}

// appendSeqSD appends the element [netlog@32473 seq="…" id="…"], if c
// numbers its records; the relay adds peer and listener to the same
// element.
func (c *core) appendSeqSD(b []byte) []byte {
	seq, ok := c.nextSeq()
	if !ok {
		return b
	}
	b = syslog.AppendSDName(append(b, '['), forward.SDID)
	b = strconv.AppendUint(append(b, " "+forward.SeqParam+`="`...), seq, 10)
	return append(append(append(b, `" `+forward.IDParam+`="`...), c.seqID...), `"]`...)
}
