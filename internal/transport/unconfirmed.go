package transport

// unconfirmed keeps the frames written whole to a connection whose bytes
// its peer may not have acknowledged yet, so that a Link that gives the
// connection up can send them again, first, on the next one.
type unconfirmed struct {
	buf    []byte // the frames, oldest first
	ends   []int  // their ends in buf
	sent   int    // bytes written to the connection, partial frames too
	first  int    // the stream offset of buf[0]
	trimAt int    // len(buf) at which to ask the kernel what is confirmed
}

// minTrim is the least len(buf) at which trim asks the kernel.
const minTrim = 256 << 10

// add keeps one frame written whole.
func (u *unconfirmed) add(frame []byte) {
	u.buf = append(u.buf, frame...)
	u.ends = append(u.ends, len(u.buf))
}

// confirm forgets the frames whose bytes all lie in the first acked bytes
// of the stream.
func (u *unconfirmed) confirm(acked int) {
	k := 0
	for k < len(u.ends) && u.first+u.ends[k] <= acked {
		k++
	}
	if k == 0 {
		return
	}
	cut := u.ends[k-1]
	u.buf = u.buf[:copy(u.buf, u.buf[cut:])]
	m := copy(u.ends, u.ends[k:])
	for i := range m {
		u.ends[i] -= cut
	}
	u.ends = u.ends[:m]
	u.first += cut
}

// due says that buf has grown enough to be worth a trim.
func (u *unconfirmed) due() bool { return len(u.buf) >= max(u.trimAt, minTrim) }

// trimmed records the size after a trim: the next is due at twice it.
func (u *unconfirmed) trimmed() { u.trimAt = 2 * len(u.buf) }

// reset forgets everything: a new connection starts.
func (u *unconfirmed) reset() {
	u.buf, u.ends = u.buf[:0], u.ends[:0]
	u.sent, u.first, u.trimAt = 0, 0, 0
}
