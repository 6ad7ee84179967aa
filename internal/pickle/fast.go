package pickle

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/netlog-go/netlog/record"
)

// The fast path reads the one shape that arrives: a flat dict of string
// keys and None, bool, int, float or str values, as Python's
// SocketHandler (protocol 1: EMPTY_DICT, then MARK, keys and values,
// SETITEMS; memo PUTs after every value, a GET for a string Python holds
// twice) and netlog's Encoder (protocol 4, no memo) write it. It accepts
// only what the general machine accepts with the same result; on anything
// else — any other opcode, a container, bytes, a big integer, invalid
// UTF-8, a repeated key, a record over its budget — it gives up, and the
// general decoder reads the payload from the start. It never builds
// anything but scalars, so it runs nothing and holds nothing a payload
// could multiply: every value it reads (a memo reference included) is
// charged to the Budget, as the general decoder charges it.
type fast struct {
	in   []byte
	pos  int
	memo []int32 // memo index → offset of the opcode of its value, or memoDict
	flat record.Flat

	dict   bool  // the dict is on the stack
	marked bool  // a MARK is above it
	n      int   // items above the dict (or its MARK)
	top    int32 // offset of the top item's opcode, or memoDict
}

// memoDict stands for the dict itself in fast.memo and fast.top.
const memoDict = -1

var fasts = sync.Pool{New: func() any { return new(fast) }}

// fastDecode runs the fast path on p; into is e, or nil for a new Entry.
// It returns the Entry, or nil if the general decoder must read p.
func fastDecode(e *record.Entry, p []byte) *record.Entry {
	d := fasts.Get().(*fast)
	e = d.decode(e, p)
	fasts.Put(d)
	return e
}

// decode is fastDecode by d, whose Flat expects the keys of the last
// record it built.
func (d *fast) decode(e *record.Entry, p []byte) *record.Entry {
	d.reset(p)
	ok := d.run()
	d.in = nil // the pool holds no payload
	// The general decoder's bound of one value per two payload bytes: a
	// flat dict of n items is 1 + 2n values.
	if !ok || 1+2*d.flat.Len() > len(p)/2+64 {
		return nil
	}
	return d.flat.Build(e, true)
}

func (d *fast) reset(p []byte) {
	d.in, d.pos, d.memo = p, 0, d.memo[:0]
	if cap(d.memo) > 1<<12 {
		d.memo = nil
	}
	d.dict, d.marked, d.n, d.top = false, false, 0, memoDict
	d.flat.Reset(len(p))
}

// run reads opcodes up to STOP and reports whether p is the flat shape.
func (d *fast) run() bool {
	for d.pos < len(d.in) {
		at := d.pos
		op := d.in[at]
		d.pos++
		ok := true
		switch op {
		case opStop:
			return d.dict && !d.marked && d.n == 0
		case opProto:
			v, okv := d.take(1)
			ok = okv && v[0] <= 5
		case opFrame:
			_, ok = d.take(8)
		case opEmptyDict:
			ok = !d.dict
			d.dict = true
		case opMark: // only right above the dict
			ok = d.dict && !d.marked && d.n == 0
			d.marked = true
		case opSetItems:
			ok = d.marked && d.n%2 == 0
			d.marked, d.n, d.top = false, 0, memoDict
		case opSetItem:
			ok = !d.marked && d.n == 2
			d.n, d.top = 0, memoDict
		case opBinPut: // after every key and value Python writes
			ok = d.pos < len(d.in) && d.memoize(uint64(d.in[d.pos]))
			d.pos++
		case opLongBinPut, opMemoize:
			ok = d.put(op)
		case opBinGet, opLongBinGet:
			ok = d.get(op == opLongBinGet)
		case opBinUnicode, opShortBinUni: // every string Python and netlog send
			ok = d.unicode(at, op)
		default:
			ok = d.item(at, true)
		}
		if !ok || d.flat.Over() || !d.putNext() {
			return false
		}
	}
	return false
}

func (d *fast) take(n uint64) ([]byte, bool) {
	if n > uint64(len(d.in)-d.pos) {
		return nil, false
	}
	b := d.in[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, true
}

// uintLE reads a little-endian unsigned integer of width 1, 2, 4 or 8 bytes.
func (d *fast) uintLE(width uint64) (uint64, bool) {
	b, ok := d.take(width)
	if !ok {
		return 0, false
	}
	switch width {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), true
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), true
	}
	return binary.LittleEndian.Uint64(b), true
}

// put memoizes the top of the stack.
func (d *fast) put(op byte) bool {
	idx, ok := uint64(len(d.memo)), true // MEMOIZE
	switch op {
	case opBinPut:
		idx, ok = d.uintLE(1)
	case opLongBinPut:
		idx, ok = d.uintLE(4)
	}
	return ok && d.memoize(idx)
}

// memoize stores the top of the stack at idx. Indexes must be dense
// (Python's are 0, 1, 2…), so that MEMOIZE's index, the memo's size, is
// len(memo).
func (d *fast) memoize(idx uint64) bool {
	if !d.dict || (d.marked && d.n == 0) {
		return false // nothing, or a MARK, on top
	}
	top := d.top
	if d.n == 0 {
		top = memoDict
	}
	switch {
	case idx > uint64(len(d.memo)):
		return false
	case idx == uint64(len(d.memo)):
		d.memo = append(d.memo, top)
	default:
		d.memo[idx] = top
	}
	return true
}

// get pushes a memoized value again: its opcode is read again, and
// charged again.
func (d *fast) get(long bool) bool {
	width := uint64(1)
	if long {
		width = 4
	}
	idx, ok := d.uintLE(width)
	if !ok || idx >= uint64(len(d.memo)) || d.memo[idx] == memoDict {
		return false
	}
	return d.item(int(d.memo[idx]), false)
}

// item pushes the scalar whose opcode is at offset at: a key if it is
// the first of a pair, else its value. fresh is false for a memo
// reference, whose opcode was read before.
func (d *fast) item(at int, fresh bool) bool {
	key, ok := d.push(at)
	if !ok {
		return false
	}
	if fresh {
		return d.scalar(d.in[at], key)
	}
	pos := d.pos
	d.pos = at + 1
	ok = d.scalar(d.in[at], key)
	d.pos = pos
	return ok
}

// push starts an item whose opcode is at offset at, and reports whether
// it is a key (the first of a pair) and whether the dict can take it.
func (d *fast) push(at int) (key, ok bool) {
	if !d.dict || (!d.marked && d.n == 2) {
		return false, false
	}
	key = d.n%2 == 0
	d.n++
	d.top = int32(at)
	return key, true
}

// unicode is item for a fresh BINUNICODE (protocols 1 to 3) or
// SHORT_BINUNICODE (4 and 5), which hold every string Python and netlog
// send, in fewer steps: it reads the length itself, refusing one longer
// than the bytes left, as take does; it takes the BINPUT that follows an
// item; and it goes on while pairs of a string key and a scalar value
// follow (a SETITEMS dict's, or one SETITEM pair), as run would, without
// a turn of run's loop, or a call, for each.
func (d *fast) unicode(at int, op byte) bool {
	for {
		key, ok := d.push(at)
		if !ok {
			return false
		}
		in, pos := d.in, d.pos
		var n uint64
		switch {
		case op == opBinUnicode && len(in)-pos >= 4:
			n, pos = uint64(binary.LittleEndian.Uint32(in[pos:pos+4])), pos+4
		case op == opShortBinUni && len(in)-pos >= 1:
			n, pos = uint64(in[pos]), pos+1
		default:
			return false
		}
		if n > uint64(len(in)-pos) {
			return false
		}
		s := in[pos : pos+int(n)]
		d.pos = pos + int(n)
		if key {
			ok = d.flat.Key(s) // which refuses a record over its budget
		} else {
			ok = d.flat.String(s) && !d.flat.Over()
		}
		if !ok || !(d.memoNext() || d.putNext()) { // memoNext: putNext's common case, inlined
			return false
		}
		if key { // its value, if a scalar follows
			if d.pos == len(d.in) || !scalarOp[d.in[d.pos]] {
				return true // run reads it
			}
			at, op = d.pos, d.in[d.pos]
			d.pos++
			if op == opBinUnicode || op == opShortBinUni {
				continue // read as a string
			}
			if _, ok := d.push(at); !ok || !d.scalar(op, false) || !(d.memoNext() || d.putNext()) || d.flat.Over() {
				return false
			}
		}
		// After a value, the next key, if more may come.
		if !d.marked || d.pos == len(d.in) {
			return true // run reads it
		}
		if at, op = d.pos, d.in[d.pos]; op != opBinUnicode && op != opShortBinUni {
			return true
		}
		d.pos++
	}
}

// putNext takes the BINPUT Python writes after every key and value, if
// one follows, without another turn of run's loop.
func (d *fast) putNext() bool {
	if d.memoNext() {
		return true
	}
	if !d.memoize(uint64(d.in[d.pos+1])) {
		return false
	}
	d.pos += 2
	return true
}

// memoNext is putNext's common cases, small enough to be inlined: no
// BINPUT follows, or one of the next index, for the item on top (n > 0:
// the dict, and an item, are on the stack), in the memo's room. It
// reports false if putNext must take the BINPUT that follows.
func (d *fast) memoNext() bool {
	if d.pos+1 >= len(d.in) || d.in[d.pos] != opBinPut {
		return true
	}
	idx := int(d.in[d.pos+1])
	if idx != len(d.memo) || idx >= cap(d.memo) || d.n == 0 {
		return false
	}
	d.memo = d.memo[:idx+1]
	d.memo[idx] = d.top
	d.pos += 2
	return true
}

// scalarOp are the opcodes of a value that scalar reads.
var scalarOp = func() (ops [256]bool) {
	for _, op := range []byte{opNone, opNewTrue, opNewFalse, opBinInt1, opBinInt2, opBinInt, opLong1,
		opBinFloat, opInt, opLong, opShortBinUni, opShortBinString, opBinUnicode, opBinString, opBinUnicode8} {
		ops[op] = true
	}
	return ops
}()

// scalar reads the argument of op and hands the value to flat: as a key
// (which must be a string) or as the current key's value.
func (d *fast) scalar(op byte, key bool) bool {
	if key {
		s, ok := d.text(op)
		return ok && d.flat.Key(s)
	}
	switch op {
	case opNone:
		d.flat.None()
	case opNewTrue, opNewFalse:
		d.flat.Bool(op == opNewTrue)
	case opBinInt1:
		b, ok := d.take(1)
		if !ok {
			return false
		}
		d.flat.Int(int64(b[0]))
	case opBinInt2:
		b, ok := d.take(2)
		if !ok {
			return false
		}
		d.flat.Int(int64(binary.LittleEndian.Uint16(b)))
	case opBinInt: // signed
		b, ok := d.take(4)
		if !ok {
			return false
		}
		d.flat.Int(int64(int32(binary.LittleEndian.Uint32(b))))
	case opLong1:
		return d.long1()
	case opBinFloat:
		u, ok := d.take(8)
		if !ok {
			return false
		}
		d.flat.Float(math.Float64frombits(binary.BigEndian.Uint64(u)))
	case opInt, opLong:
		return d.textInt(op)
	default:
		s, ok := d.text(op)
		return ok && d.flat.String(s)
	}
	return true
}

// text reads a string opcode's argument. It must be valid UTF-8 to be
// taken (the general decoder would replace invalid bytes): Flat.Key and
// Flat.String check it.
func (d *fast) text(op byte) ([]byte, bool) {
	var width uint64
	switch op {
	case opShortBinUni, opShortBinString:
		width = 1
	case opBinUnicode, opBinString:
		width = 4
	case opBinUnicode8:
		width = 8
	default:
		return nil, false
	}
	n, ok := d.uintLE(width)
	if !ok {
		return nil, false
	}
	return d.take(n)
}

// long1 reads LONG1 of up to 8 bytes: little-endian two's complement.
func (d *fast) long1() bool {
	n, ok := d.uintLE(1)
	if !ok || n > 8 {
		return false
	}
	b, ok := d.take(n)
	if !ok {
		return false
	}
	var buf [8]byte
	copy(buf[:], b)
	if n > 0 && b[n-1]&0x80 != 0 {
		for i := n; i < 8; i++ {
			buf[i] = 0xff
		}
	}
	d.flat.Int(int64(binary.LittleEndian.Uint64(buf[:])))
	return true
}

// textInt reads INT or LONG of up to 18 digits (protocol 1 writes an int
// over 32 bits as LONG text), an optional L and the line feed, in one
// pass; INT 01 and 00 are True and False.
func (d *fast) textInt(op byte) bool {
	in, i := d.in, d.pos
	signed := i < len(in) && (in[i] == '-' || in[i] == '+')
	neg := signed && in[i] == '-'
	if signed {
		i++
	}
	start := i
	var v int64
	digits := 0
	for head := in[start:min(len(in), start+19)]; digits < len(head) && head[digits]-'0' <= 9; digits++ {
		v = v*10 + int64(head[digits]-'0')
	}
	i += digits
	if i < len(in) && in[i] == 'L' {
		i++
	}
	if i == len(in) || in[i] != '\n' || digits == 0 || digits > 18 {
		return false
	}
	d.pos = i + 1
	if op == opInt && !signed && digits == 2 && in[start] == '0' && in[start+1] <= '1' {
		d.flat.Bool(in[start+1] == '1')
		return true
	}
	if neg {
		v = -v
	}
	d.flat.Int(v)
	return true
}
