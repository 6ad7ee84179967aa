package record

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonFast reads the JSON record that netlog's handlers send: one object
// of string keys and string, number, true, false or null values, or
// objects of such values (groups, such as a relayed syslog record's
// structured data) up to maxGroupDepth deep. Strings are unescaped into
// one buffer, which Flat turns into the one string of the record. It
// accepts only what DecodeJSON's general reader accepts with the same
// result; on anything else — an array, deeper nesting, a number that is
// not an int64 or a finite float, a surrogate escape, invalid UTF-8,
// bytes after the object — it gives up and the general reader decides.
type jsonFast struct {
	in   []byte
	pos  int
	flat Flat
}

var jsonFasts = sync.Pool{New: func() any { return new(jsonFast) }}

// decodeJSONFast runs the fast path on p into e (nil: a new Entry). It
// returns the Entry, or nil if the general reader must read p.
func decodeJSONFast(e *Entry, p []byte) *Entry {
	j := jsonFasts.Get().(*jsonFast)
	defer jsonFasts.Put(j)
	j.in, j.pos = p, 0
	j.flat.Reset(len(p))
	ok := j.object()
	j.in = nil // the pool holds no payload
	if !ok {
		return nil
	}
	return j.flat.Build(e, false)
}

// maxGroupDepth bounds the groups the fast path reads: a relayed syslog
// record's structured data nests 2 deep (SD-ID, then its parameters).
const maxGroupDepth = 4

func (j *jsonFast) object() bool {
	if !j.skip('{') {
		return false
	}
	_, ok := j.members(0, 0)
	return ok && j.end()
}

// members reads the keys and values of the object whose '{' was just
// read, through its '}': the record's (depth 0) or a group's, under a
// path of groups that the text form prints in prefix bytes. It returns
// how many keys it read.
func (j *jsonFast) members(depth, prefix int) (int, bool) {
	if j.skip('}') {
		return 0, true
	}
	for n := 1; ; n++ {
		if !j.skip('"') {
			return 0, false
		}
		keyLen, ok := j.key(depth)
		if !ok || !j.skip(':') || !j.member(depth, prefix, keyLen) || j.flat.Over() {
			return 0, false
		}
		if j.skip('}') {
			return n, true
		}
		if !j.skip(',') {
			return 0, false
		}
	}
}

// member reads the value of a key of keyLen bytes in an object at depth
// under a path of prefix bytes, charged to a scalar as the general reader
// charges it (PathCost).
func (j *jsonFast) member(depth, prefix, keyLen int) bool {
	if !j.skip('{') {
		j.flat.charge(prefix)
		return j.value()
	}
	if depth == maxGroupDepth {
		return false
	}
	i := j.flat.open()
	n, ok := j.members(depth+1, prefix+keyLen+1)
	j.flat.close(i, n)
	return ok
}

// skip skips white space, then c if it is next, and reports whether it was.
func (j *jsonFast) skip(c byte) bool {
	j.space()
	if j.pos < len(j.in) && j.in[j.pos] == c {
		j.pos++
		return true
	}
	return false
}

func (j *jsonFast) space() {
	for j.pos < len(j.in) {
		switch j.in[j.pos] {
		case ' ', '\t', '\n', '\r':
			j.pos++
		default:
			return
		}
	}
}

// end reports whether only white space follows.
func (j *jsonFast) end() bool {
	j.space()
	return j.pos == len(j.in)
}

// key reads a key of an object at depth and returns its length.
func (j *jsonFast) key(depth int) (int, bool) {
	start := len(j.flat.buf)
	if !j.unquote() {
		return 0, false
	}
	n := len(j.flat.buf) - start
	if depth == 0 {
		j.flat.keyFrom(start)
	} else {
		j.flat.childKeyFrom(start)
	}
	return n, true
}

func (j *jsonFast) value() bool {
	j.space()
	if j.pos == len(j.in) {
		return false
	}
	switch c := j.in[j.pos]; {
	case c == '"':
		j.pos++
		start := len(j.flat.buf)
		if !j.unquote() {
			return false
		}
		j.flat.stringFrom(start)
	case c == 't' || c == 'f':
		if !j.word("true") && !j.word("false") {
			return false
		}
		j.flat.Bool(c == 't')
	case c == 'n':
		if !j.word("null") {
			return false
		}
		j.flat.None()
	default:
		return j.number()
	}
	return true
}

// word reads w if it is next.
func (j *jsonFast) word(w string) bool {
	if len(j.in)-j.pos < len(w) || string(j.in[j.pos:j.pos+len(w)]) != w {
		return false
	}
	j.pos += len(w)
	return true
}

// number reads a JSON number: an integer of up to 18 digits as an int64,
// anything with a fraction or exponent as a float64 (the general reader
// makes a longer integer a big.Int, and refuses a float out of range or
// longer than MaxNumberLen).
func (j *jsonFast) number() bool {
	start := j.pos
	j.next("-")
	if !j.next("0") && j.digits() == 0 {
		return false
	}
	isInt := true
	if j.next(".") {
		if j.digits() == 0 {
			return false
		}
		isInt = false
	}
	if j.next("eE") {
		j.next("+-")
		if j.digits() == 0 {
			return false
		}
		isInt = false
	}
	b := j.in[start:j.pos]
	if len(b) > MaxNumberLen {
		return false
	}
	if isInt {
		return j.integer(b)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return false
	}
	j.flat.Float(f)
	return true
}

// next reads one byte of set if it is next.
func (j *jsonFast) next(set string) bool {
	if j.pos < len(j.in) && strings.IndexByte(set, j.in[j.pos]) >= 0 {
		j.pos++
		return true
	}
	return false
}

// digits skips the digits next and returns how many.
func (j *jsonFast) digits() int {
	start := j.pos
	for j.pos < len(j.in) && j.in[j.pos] >= '0' && j.in[j.pos] <= '9' {
		j.pos++
	}
	return j.pos - start
}

func (j *jsonFast) integer(b []byte) bool {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) > 18 {
		return false
	}
	var v int64
	for _, c := range b {
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	j.flat.Int(v)
	return true
}

// unquote appends to flat.buf the string whose opening quote was just
// read, unescaped, and reads its closing quote.
func (j *jsonFast) unquote() bool {
	buf := j.flat.buf
	start, ascii := len(buf), true
	defer func() { j.flat.buf = buf }()
	for {
		i := j.pos
		for ; i < len(j.in); i++ {
			c := j.in[i]
			if c == '"' || c == '\\' || c < 0x20 {
				break
			}
			ascii = ascii && c < utf8.RuneSelf
		}
		buf = append(buf, j.in[j.pos:i]...)
		if i == len(j.in) || j.in[i] < 0x20 {
			return false
		}
		j.pos = i + 1
		if j.in[i] == '"' {
			return ascii || utf8.Valid(buf[start:])
		}
		var ok bool
		if buf, ok = j.escape(buf); !ok {
			return false
		}
	}
}

// escape appends the character of the escape after a backslash.
func (j *jsonFast) escape(buf []byte) ([]byte, bool) {
	if j.pos == len(j.in) {
		return buf, false
	}
	c := j.in[j.pos]
	j.pos++
	switch c {
	case '"', '\\', '/':
		return append(buf, c), true
	case 'b':
		return append(buf, '\b'), true
	case 'f':
		return append(buf, '\f'), true
	case 'n':
		return append(buf, '\n'), true
	case 'r':
		return append(buf, '\r'), true
	case 't':
		return append(buf, '\t'), true
	case 'u':
		if len(j.in)-j.pos < 4 {
			return buf, false
		}
		r, err := strconv.ParseUint(string(j.in[j.pos:j.pos+4]), 16, 32)
		j.pos += 4
		if err != nil || utf16.IsSurrogate(rune(r)) {
			return buf, false
		}
		return utf8.AppendRune(buf, rune(r)), true
	}
	return buf, false
}
