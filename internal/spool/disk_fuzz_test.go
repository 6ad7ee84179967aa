package spool

import (
	"encoding/binary"
	"testing"
)

// FuzzSegment: whatever a segment file holds after a crash or a bad
// disk, reading it back neither panics nor returns a frame that fails its
// checksum, and the frames it returns lie inside the file, in order,
// without overlapping.
func FuzzSegment(f *testing.F) {
	var whole []byte
	for i, frame := range []string{"<14>1 first\n", "second", "a third, longer frame"} {
		h := make([]byte, frameHdr)
		h[0] = markPending
		if i == 1 {
			h[0] = markDone
		}
		binary.LittleEndian.PutUint32(h[4:], uint32(len(frame)))
		binary.LittleEndian.PutUint64(h[12:], uint64(i+7))
		binary.LittleEndian.PutUint32(h[8:], frameCRC(h, []byte(frame)))
		whole = append(append(whole, h...), frame...)
	}
	f.Add(whole)
	f.Add(whole[:len(whole)-3])
	f.Add(append(make([]byte, 7), whole...))
	f.Fuzz(func(t *testing.T, body []byte) {
		m := append(make([]byte, fileHdr), body...)
		var s segment
		scan(m, &s)
		end := fileHdr
		for i, at := range s.offs {
			n := s.lens[i]
			if at-frameHdr < end || at+n > len(m) {
				t.Fatalf("frame %d at %d, %d bytes: overlaps or outside the %d-byte file", i, at, n, len(m))
			}
			h := m[at-frameHdr : at]
			if binary.LittleEndian.Uint32(h[8:]) != frameCRC(h, m[at:at+n]) || h[0] == markDone {
				t.Fatalf("frame %d at %d: bad checksum or delivered", i, at)
			}
			end = at + n
		}
	})
}
