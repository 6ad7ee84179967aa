package record

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonFast reads the JSON record that netlog's handlers send when its
// attributes have no groups: one object of string keys and string,
// number, true, false or null values. Strings are unescaped into one
// buffer, which Flat turns into the one string of the record. It accepts
// only what DecodeJSON's general reader accepts with the same result; on
// anything else — a nested object or array, a number that is not an
// int64 or a finite float, a surrogate escape, invalid UTF-8, bytes after
// the object — it gives up and the general reader decides.
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

func (j *jsonFast) object() bool {
	if !j.skip('{') {
		return false
	}
	if j.skip('}') {
		return j.end()
	}
	for {
		if !j.skip('"') || !j.key() || !j.skip(':') || !j.value() || j.flat.Over() {
			return false
		}
		if j.skip('}') {
			return j.end()
		}
		if !j.skip(',') {
			return false
		}
	}
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

func (j *jsonFast) key() bool {
	start := len(j.flat.buf)
	ok := j.unquote()
	if ok {
		j.flat.keyFrom(start)
	}
	return ok
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
// makes a longer integer a big.Int, and refuses a float out of range).
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
