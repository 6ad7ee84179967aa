package spool

import (
	"encoding/binary"
	"slices"
	"testing"
)

// FuzzSegment: whatever a segment file holds after a crash or a bad
// disk, reading it back neither panics nor returns a frame that fails its
// checksum, and the frames it returns lie inside the file, in order,
// without overlapping; once the damage is marked, reading it again finds
// the same frames, and no damage but stretches too short to mark.
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
		bad := scan(m, &s)
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
		for _, b := range bad {
			skipOver(m, b[0], b[1])
		}
		var again segment
		bad = scan(m, &again)
		if !slices.Equal(again.offs, s.offs) {
			t.Fatalf("after the damage was marked: frames at %v, before at %v", again.offs, s.offs)
		}
		for _, b := range bad {
			if b[1]-b[0] >= frameHdr {
				t.Fatalf("after the damage was marked: %d damaged bytes at %d again", b[1]-b[0], b[0])
			}
		}
	})
}
