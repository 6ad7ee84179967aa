package record

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"math"
	"time"
	"unicode/utf8"
)

// The kinds of a scalar: the values a flat record dict holds.
const (
	kindNone uint8 = iota
	kindBool
	kindInt
	kindFloat
	kindString
	kindOther // a container, bytes or a big integer: no field takes one
	kindGroup // a JSON object in the record: its items follow it
)

// scalar is one decoded nil, bool, int64, float64 or string, unboxed so
// that a fast decoder does not allocate to hold it.
type scalar struct {
	kind uint8
	n    int64 // an int, a bool (1 or 0), or a float's bits
	s    string
}

func (v scalar) float() float64 { return math.Float64frombits(uint64(v.n)) }

// scalarOf unboxes v: kindOther for a container, bytes or a big integer.
func scalarOf(v any) scalar {
	switch x := v.(type) {
	case nil:
		return scalar{kind: kindNone}
	case bool:
		s := scalar{kind: kindBool}
		if x {
			s.n = 1
		}
		return s
	case int64:
		return scalar{kind: kindInt, n: x}
	case float64:
		return scalar{kind: kindFloat, n: int64(math.Float64bits(x))}
	case string:
		return scalar{kind: kindString, s: x}
	}
	return scalar{kind: kindOther}
}

// value is the slog.Value of v, as converter.value makes it from the boxed form.
func (v scalar) value() slog.Value {
	switch v.kind {
	case kindBool:
		return slog.BoolValue(v.n != 0)
	case kindInt:
		return slog.Int64Value(v.n)
	case kindFloat:
		return slog.Float64Value(v.float())
	case kindString:
		return slog.StringValue(v.s)
	}
	return slog.AnyValue(nil)
}

// number is v as a float64, if it is an int or a float.
func (v scalar) number() (float64, bool) {
	switch v.kind {
	case kindInt:
		return float64(v.n), true
	case kindFloat:
		return v.float(), true
	}
	return 0, false
}

// The LogRecord fields an Entry holds, indexed as fieldKeys.
const (
	fName = iota
	fMsg
	fLevelName
	fPathname
	fFilename
	fModule
	fFuncName
	fThreadName
	fProcessName
	fTaskName
	fExcText
	fStackInfo
	fThread
	fLevelNo
	fLineno
	fProcess
	fArgs
	fExcInfo
	fMsecs
	fCreated
	fRelative
	nFields
)

// fieldKeys are the keys of the fields, the interned names a decoder uses
// for a field that becomes an attribute (a value of the wrong type).
var fieldKeys = [nFields]string{
	FieldName, FieldMsg, FieldLevelName, FieldPathname, FieldFilename, FieldModule,
	FieldFuncName, FieldThreadName, FieldProcessName, FieldTaskName, FieldExcText,
	FieldStackInfo, FieldThread, FieldLevelNo, FieldLineno, FieldProcess, FieldArgs,
	FieldExcInfo, FieldMsecs, FieldCreated, FieldRelative,
}

// fieldIndex is the index of the field named k, or -1: a perfect hash of
// k's words (keyWords), then one comparison of the words, quicker than a
// switch of 21 strings (or a string comparison) for every key of every
// record.
func fieldIndex(k string) int {
	if len(k) > 16 {
		return -1
	}
	return keyWords([]byte(k)).field() // 16 bytes at most: on the stack
}

// field is the index of the field whose words are w, or -1.
func (w words) field() int {
	if w.n < minFieldLen || w.n > 16 {
		return -1
	}
	s := &fieldTable[w.fieldHash()]
	if s.words != w {
		return -1
	}
	return int(s.field)
}

// minFieldLen is the length of the shortest field name ("msg").
const minFieldLen = 3

// words are the bytes of a key of 1 to 16 bytes packed in two words, with
// its length: equal words, equal keys. A longer key's words are those of
// its first and last 8 bytes, which only its hash uses.
type words struct {
	lo, hi uint64
	n      int
}

// keyWords packs k: its first and last 8 bytes (which overlap, and cover
// k, if it has 8 to 16), or first and last 4 (4 to 7), or its first,
// middle and last byte (1 to 3).
func keyWords(k []byte) words {
	switch n := len(k); {
	case n >= 8:
		return words{le64(k), le64(k[n-8:]), n}
	case n >= 4:
		return words{le32(k), le32(k[n-4:]), n}
	case n > 0:
		return words{uint64(k[0]) | uint64(k[n/2])<<8 | uint64(k[n-1])<<16, 0, n}
	}
	return words{}
}

// le64 and le32 read the first 8 or 4 bytes of b, little-endian.
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
func le32(b []byte) uint64 { return uint64(binary.LittleEndian.Uint32(b)) }

// hash mixes w's words (multiplicative hashing; the last constant is one
// under which fieldHash is perfect for the field names): the Bloom filter
// of the attribute keys uses it, and fieldHash its top bits.
func (w words) hash() uint64 {
	return (w.lo*0x9e3779b97f4a7c15 ^ w.hi*0xc2b2ae3d27d4eb4f ^ uint64(w.n)) * 0xad45f23d3b1a11df
}

func (w words) fieldHash() uint64 { return w.hash() >> (64 - fieldTableBits) }

const fieldTableBits = 6

// fieldTable maps fieldHash to the field's words and index (-1 if none).
var fieldTable = func() (t [1 << fieldTableBits]struct {
	words
	field int8
}) {
	for i := range t {
		t[i].field = -1
	}
	for f, k := range fieldKeys {
		s := &t[keyWords([]byte(k)).fieldHash()]
		if s.field >= 0 {
			panic("record: fieldHash is not perfect for " + k)
		}
		s.words, s.field = keyWords([]byte(k)), int8(f)
	}
	return t
}()

// set stores v in the field f of e and reports whether it did; if not,
// the value becomes an attribute (a field of the wrong type is kept, not
// lost). A None leaves a text field as it was; levelno, lineno, process and
// relativeCreated are set (to 0) whatever v is.
func (e *Entry) set(f int, v scalar) bool {
	if f < fThread {
		if v.kind == kindString {
			*e.text(f) = v.s
		}
		return v.kind == kindString || v.kind == kindNone
	}
	var n int64
	isInt := v.kind == kindInt || v.kind == kindNone
	if v.kind == kindInt {
		n = v.n
	}
	switch f {
	case fThread:
		if isInt && v.kind == kindInt {
			e.Thread = n
		}
		return isInt
	case fLevelNo:
		e.LevelNo = int(n)
		return isInt
	case fLineno:
		e.Lineno = int(n)
		return isInt
	case fProcess:
		e.Process = int(n)
		return isInt
	case fArgs, fExcInfo: // None on the wire
		return v.kind == kindNone
	case fMsecs: // derived from created
		return true
	case fCreated:
		t, ok := v.number()
		if ok && !math.IsNaN(t) && !math.IsInf(t, 0) {
			sec, frac := math.Modf(t)
			e.Created = time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3)
		}
		return ok
	}
	// fRelative, a float of milliseconds: rounded, since 8.319854 × 1e6
	// is 8319853.99… and truncating would lose a nanosecond per hop.
	ms, ok := v.number()
	e.Relative = time.Duration(math.Round(ms * 1e6))
	return ok
}

// text is the string field f (f < fThread).
func (e *Entry) text(f int) *string {
	switch f {
	case fName:
		return &e.Name
	case fMsg:
		return &e.Msg
	case fLevelName:
		return &e.LevelName
	case fPathname:
		return &e.Pathname
	case fFilename:
		return &e.Filename
	case fModule:
		return &e.Module
	case fFuncName:
		return &e.FuncName
	case fThreadName:
		return &e.ThreadName
	case fProcessName:
		return &e.ProcessName
	case fTaskName:
		return &e.TaskName
	case fExcText:
		return &e.ExcText
	}
	return &e.StackInfo
}

// Flat builds an Entry from a flat record dict — string keys, each with a
// None, bool, integer, float or string — the shape Python's SocketHandler
// and netlog's handlers send. It is the fast path of the pickle and JSON
// decoders: a decoder hands it each key and value as it reads them, and
// Flat makes the Entry with one allocation for the text of every string,
// values and keys sliced from it, the LogRecord field names interned.
// For a pickle (Key), a key or string value that is the one the last
// record had at the same place (Python sends the same keys in the same
// order, most values again) is found by one comparison, not hashed,
// checked or copied again: the Entry takes that record's string.
// A decoder that meets anything else (a container, bytes, a big integer)
// stops and decodes the payload with its general decoder instead. The
// JSON decoder also hands it objects of such values (groups), which
// become group attributes.
//
// A Flat is reused record after record: Reset it before each.
type Flat struct {
	buf      []byte // the text of every string value and attribute key
	items    []flatItem
	left     int // of the payload's Budget, charged as a decoder charges it
	extras   int // items whose key is not a LogRecord field
	children int // items inside groups

	// known are the keys of the last record Key was handed (Python
	// sends the same keys in the same order, record after record), and
	// missed is set when a key is not the one known at its place.
	known  []knownKey
	missed bool
}

// knownKey is a key expected at its place in the record: a key of up to
// 16 bytes whose words are these is this one, known valid UTF-8. So is
// val, the last string value at that place (a record's level, logger,
// file, thread and process names are those of the record before).
type knownKey struct {
	words        // n is -1 for a key no words match (over 16 bytes)
	name  string // the field's interned name, or a substring of a record's text
	val   string // a substring of a record's text
	h     uint64 // words.hash, for the Bloom filter
	field int8
}

// Keys and values are learned from a record of at most so many items and
// bytes of text (whose strings a known key or value keeps alive in the
// pooled Flat).
const (
	maxKnownKeys = 64
	maxKnownText = 4 << 10
)

// flatItem is one key and value; key and val are spans of Flat.buf,
// except a key of {-1, i}, the name of Flat.known[i], and a val of
// {-1, i}, its val.
type flatItem struct {
	field    int8 // fieldIndex of the key, or -1: the key is an attribute's
	kind     uint8
	key, val [2]int32
	n        int64 // as scalar.n; a group's: how many of the items after it are its own
}

// Reset empties f for the record of a payload of n bytes, keeping f's
// memory unless a large record grew it.
func (f *Flat) Reset(n int) {
	const keep = 64 << 10
	if cap(f.buf) > keep {
		f.buf = nil
	}
	if cap(f.items) > keep/32 {
		f.items = nil
	}
	b := NewBudget(n)
	f.buf, f.items, f.left, f.extras = f.buf[:0], f.items[:0], b.Limit()-2, 0 // 2: the dict's own
	f.children = 0
	f.missed = false
}

// Len is the number of keys handed to f.
func (f *Flat) Len() int { return len(f.items) }

// Over reports whether the record is over the budget of its payload: a
// decoder stops there (Build would refuse it).
func (f *Flat) Over() bool { return f.left < 0 }

// Key starts an item: its value is what the next call to String, Int,
// Float, Bool or None gives. It reports false, adding nothing, if k is not
// valid UTF-8 or the budget is spent (a key is charged before it is
// copied, as a value is). The key the last record had at this place is
// tried first: equal words, the same key, already interned and checked.
func (f *Flat) Key(k []byte) bool {
	if f.left -= 2 + len(k); f.left < 0 {
		return false
	}
	w := keyWords(k)
	if i := len(f.items); i < len(f.known) && f.known[i].words == w {
		if kk := &f.known[i]; kk.field >= 0 {
			f.field(int(kk.field))
		} else {
			f.attr([2]int32{-1, int32(i)})
		}
		return true
	}
	f.missed = true
	if field := w.field(); field >= 0 {
		f.field(field)
		return true
	}
	if !validUTF8(k) {
		return false
	}
	f.buf = append(f.buf, k...)
	f.attr([2]int32{int32(len(f.buf) - len(k)), int32(len(f.buf))})
	return true
}

// validUTF8 is utf8.Valid, quicker for the short ASCII strings of a
// record: it looks for a byte with the high bit set 8 bytes at a time,
// the last 8 (or 4) overlapping those before.
func validUTF8(s []byte) bool {
	var or uint64
	switch n := len(s); {
	case n >= 8:
		for i := 0; i < n-8; i += 8 {
			or |= le64(s[i:])
		}
		or |= le64(s[n-8:])
	case n >= 4:
		or = le32(s) | le32(s[n-4:])
	default:
		for _, c := range s {
			or |= uint64(c)
		}
	}
	return or&0x8080808080808080 == 0 || utf8.Valid(s)
}

// keyFrom starts an item whose key is the text of buf from start (a JSON
// key, unescaped in place).
func (f *Flat) keyFrom(start int) {
	k := f.buf[start:]
	f.left -= 2 + len(k)
	w := keyWords(k)
	if field := w.field(); field >= 0 {
		f.buf = f.buf[:start]
		f.field(field)
		return
	}
	f.attr([2]int32{int32(start), int32(len(f.buf))})
}

// next appends a zero item and returns it. It is written in place:
// appending a composite literal builds it on the stack first, and copying
// that just-stored temporary stalls the CPU, once per key.
func (f *Flat) next() *flatItem {
	n := len(f.items)
	if n == cap(f.items) {
		f.items = append(f.items, flatItem{})
	} else {
		f.items = f.items[:n+1]
		f.items[n] = flatItem{}
	}
	return &f.items[n]
}

// field starts an item whose key names the LogRecord field i.
func (f *Flat) field(i int) { f.next().field = int8(i) }

// attr starts an item whose key, at span (see flatItem), is an
// attribute's.
func (f *Flat) attr(span [2]int32) {
	it := f.next()
	it.field, it.key = -1, span
	f.extras++
}

func (f *Flat) last() *flatItem { return &f.items[len(f.items)-1] }

// childKeyFrom starts an item of a group whose key is the text of buf
// from start: a plain key, even one that names a LogRecord field (whose
// interned name it then takes), and not an attribute of the Entry.
func (f *Flat) childKeyFrom(start int) {
	k := f.buf[start:]
	f.left -= 2 + len(k)
	it := f.next()
	it.field = -1
	if field := keyWords(k).field(); field >= 0 {
		f.buf = f.buf[:start]
		it.field = int8(field)
		return
	}
	it.key = [2]int32{int32(start), int32(len(f.buf))}
}

// open makes the current key's value a group, charged 2 bytes as the
// general reader charges a container, and returns its index for close.
func (f *Flat) open() int {
	f.last().kind = kindGroup
	f.left -= 2
	return len(f.items) - 1
}

// close ends the group at index i: n items, each with what follows it if
// it is a group itself, are its own.
func (f *Flat) close(i, n int) {
	f.items[i].n = int64(n)
	f.children += n
}

// charge takes n bytes from the budget: the path of groups above a value
// in a group, which the text form prints before it.
func (f *Flat) charge(n int) { f.left -= n }

// String is the value of the current key: a string. It reports false,
// adding nothing, if s is not valid UTF-8. Once the budget is spent, it is
// not copied: a string referenced many times (a pickle's memo) cannot make
// f hold more than the budget. The value the last record had at this
// place is tried first: equal, it is not copied again.
func (f *Flat) String(s []byte) bool {
	i := len(f.items) - 1
	it := &f.items[i]
	it.kind = kindString
	if f.left -= len(s); i < len(f.known) && string(s) == f.known[i].val {
		it.val = [2]int32{-1, int32(i)}
		return true
	}
	if !validUTF8(s) {
		return false
	}
	if f.left >= 0 {
		f.buf = append(f.buf, s...)
		it.val = [2]int32{int32(len(f.buf) - len(s)), int32(len(f.buf))}
	}
	return true
}

// stringFrom is String of the text of buf from start (unescaped in place).
func (f *Flat) stringFrom(start int) {
	it := f.last()
	it.kind, it.val = kindString, [2]int32{int32(start), int32(len(f.buf))}
	f.left -= len(f.buf) - start
}

// Int is the value of the current key: an integer.
func (f *Flat) Int(n int64) {
	it := f.last()
	it.kind, it.n = kindInt, n
	f.left -= maxIntLen
}

// The longest an int64 (-9223372036854775808) and a float64
// (-1.2345678901234567e-308) print: the budget is charged that much
// rather than the cost of finding a number's length. A record that this
// takes over its budget goes to the general decoder, which counts exactly.
const (
	maxIntLen   = 20
	maxFloatLen = 24
)

// Float is the value of the current key: a float.
func (f *Flat) Float(x float64) {
	it := f.last()
	it.kind, it.n = kindFloat, int64(math.Float64bits(x))
	f.left -= maxFloatLen
}

// Bool is the value of the current key: True or False.
func (f *Flat) Bool(b bool) {
	it := f.last()
	it.kind, it.n = kindBool, 0
	if b {
		it.n = 1
	}
	f.left -= 5
}

// None is the value of the current key: None (null).
func (f *Flat) None() {
	f.last().kind = kindNone
	f.left -= 5
}

// Build sets into to the record f holds (into's Attrs keep their array),
// or a new Entry if into is nil (allocated with room for its attributes),
// and returns it. It returns nil, leaving into as it was, if the record is
// over the Budget of its payload (Reset), or if dict is true (a pickle: a
// repeated key keeps its first place and takes its last value) and a key
// repeats or there are too many attributes to check cheaply: the general
// decoder then decides. Without dict (JSON), every item counts, in order.
//
// The Entry's strings, and those of its Attrs, share one string that f
// allocates, or are those of an earlier record of at most maxKnownText
// bytes (a pooled Flat keeps at most two such strings per place, a key's
// and a value's: 512 KiB);
// strings are never written, so they stay valid after f and the Entry
// are reused.
func (f *Flat) Build(into *Entry, dict bool) *Entry {
	if f.Over() || (dict && !f.unique()) {
		return nil
	}
	e := into
	switch {
	case e != nil:
		attrs := e.Attrs[:0]
		clear(attrs[:cap(attrs)])
		*e = Entry{Attrs: attrs}
	case f.extras == 0:
		e = &Entry{}
	case f.extras <= len(entryAttrs{}.attrs):
		x := &entryAttrs{}
		x.e.Attrs, e = x.attrs[:0], &x.e
	default:
		e = &Entry{Attrs: make([]slog.Attr, 0, f.extras)}
	}
	f.fill(e)
	return e
}

// entryAttrs is an Entry and the attributes of a typical record in one
// allocation.
type entryAttrs struct {
	e     Entry
	attrs [8]slog.Attr
}

// maxUniqueCheck bounds the attribute keys unique compares pairwise.
const maxUniqueCheck = 64

// unique reports whether no key repeats (false if there are too many
// attributes to tell cheaply). None does if every key was the one known
// at its place: the known keys are those of a record in which none did.
// Else the attribute keys are compared only if a Bloom filter of them
// sees two alike.
func (f *Flat) unique() bool {
	if !f.missed {
		return true
	}
	var fields uint32
	var bloom [2]uint64
	dupKey := false
	for i := range f.items {
		it := &f.items[i]
		if it.field >= 0 {
			bit := uint32(1) << it.field
			if fields&bit != 0 {
				return false
			}
			fields |= bit
			continue
		}
		h := f.keyHash(it)
		word, bit := &bloom[h>>63], uint64(1)<<(h>>57&63)
		dupKey = dupKey || *word&bit != 0
		*word |= bit
	}
	if !dupKey {
		return true
	}
	if f.extras > maxUniqueCheck {
		return false
	}
	for i := range f.items {
		if f.items[i].field >= 0 {
			continue
		}
		for j := range i {
			if f.items[j].field < 0 && f.sameKey(&f.items[i], &f.items[j]) {
				return false
			}
		}
	}
	return true
}

// keyHash is words.hash of the key of the attribute it.
func (f *Flat) keyHash(it *flatItem) uint64 {
	if it.key[0] < 0 {
		return f.known[it.key[1]].h
	}
	return keyWords(f.buf[it.key[0]:it.key[1]]).hash()
}

// sameKey reports whether the attributes a and b have the same key.
func (f *Flat) sameKey(a, b *flatItem) bool {
	if a.key[0] < 0 {
		a, b = b, a // a's key is in buf if either is
	}
	switch {
	case b.key[0] >= 0:
		return bytes.Equal(f.buf[a.key[0]:a.key[1]], f.buf[b.key[0]:b.key[1]])
	case a.key[0] >= 0:
		return string(f.buf[a.key[0]:a.key[1]]) == f.known[b.key[1]].name
	}
	return f.known[a.key[1]].name == f.known[b.key[1]].name
}

func (f *Flat) fill(e *Entry) {
	text := string(f.buf)
	var children []slog.Attr // of every group, in one allocation
	if f.children > 0 {
		children = make([]slog.Attr, f.children)
	}
	for i := 0; i < len(f.items); i++ {
		it := &f.items[i] // not a copy: see next
		if it.kind == kindGroup {
			var g slog.Value
			g, i, children = f.group(text, i, children)
			if it.field < 0 || !e.set(int(it.field), scalar{kind: kindOther}) {
				e.appendAttr(f.key(text, it), g)
			}
			continue
		}
		v := scalar{kind: it.kind, n: it.n}
		switch {
		case it.kind == kindString:
			v.s = f.str(text, i)
			if it.field >= 0 && it.field < fThread { // set's common cases, inline
				*e.text(int(it.field)) = v.s
				continue
			}
		case it.kind == kindInt && it.field >= fThread && it.field <= fProcess:
			switch it.field {
			case fThread:
				e.Thread = it.n
			case fLevelNo:
				e.LevelNo = int(it.n)
			case fLineno:
				e.Lineno = int(it.n)
			default:
				e.Process = int(it.n)
			}
			continue
		case it.field == fMsecs || it.kind == kindNone && (it.field >= 0 && it.field < fThread || it.field == fArgs || it.field == fExcInfo):
			continue // what set does with them: nothing
		}
		if it.field >= 0 && e.set(int(it.field), v) {
			continue
		}
		e.appendAttr(f.key(text, it), v.value())
	}
	if f.missed {
		f.learn(text)
	}
}

// str is the string value of the item i, whose text is text. A record
// of at most maxKnownText bytes makes it the value expected at its place.
func (f *Flat) str(text string, i int) string {
	it := &f.items[i]
	if it.val[0] < 0 {
		return f.known[it.val[1]].val
	}
	s := text[it.val[0]:it.val[1]]
	if i < len(f.known) && len(text) <= maxKnownText {
		f.known[i].val = s
	}
	return s
}

// key is the key of it, an item whose text is text.
func (f *Flat) key(text string, it *flatItem) string {
	switch {
	case it.field >= 0:
		return fieldKeys[it.field]
	case it.key[0] < 0:
		return f.known[it.key[1]].name
	}
	return text[it.key[0]:it.key[1]]
}

// learn makes the keys of the record just built, whose text is text, those
// Key expects next (none if the record is large, or has groups). An item
// whose key was known at its place keeps it: known[i] is read before it
// is written.
func (f *Flat) learn(text string) {
	n := len(f.items)
	if n > maxKnownKeys || len(text) > maxKnownText || f.children > 0 {
		f.known = f.known[:0]
		return
	}
	if n > cap(f.known) {
		f.known = append(f.known[:cap(f.known)], make([]knownKey, n-cap(f.known))...)
	}
	f.known = f.known[:n]
	for i := range f.items {
		it, kk := &f.items[i], &f.known[i]
		val := "" // read before known[i] is written, as name is
		if it.kind == kindString {
			val = f.str(text, i)
		}
		kk.name, kk.val, kk.field = f.key(text, it), val, it.field
		kk.words = words{n: -1}
		if len(kk.name) <= 16 {
			kk.words = keyWords([]byte(kk.name)) // on the stack
			kk.h = kk.words.hash()
		}
	}
}

// group is the value of the group at index i, its attributes taken from
// the front of attrs (as slog.GroupValue makes it, which drops an empty
// group among them, as the general reader's does). It returns the index
// of the group's last item and the rest of attrs.
func (f *Flat) group(text string, i int, attrs []slog.Attr) (slog.Value, int, []slog.Attr) {
	n := int(f.items[i].n)
	own := attrs[:n:n]
	attrs = attrs[n:]
	for c := range own {
		i++
		it := &f.items[i]
		a := &own[c]
		a.Key = f.key(text, it)
		switch it.kind {
		case kindGroup:
			a.Value, i, attrs = f.group(text, i, attrs)
		case kindString:
			a.Value = slog.StringValue(f.str(text, i))
		default:
			a.Value = scalar{kind: it.kind, n: it.n}.value()
		}
	}
	return slog.GroupValue(own...), i, attrs
}

// appendAttr appends an attribute written in place, as Flat.next does an
// item. Build handed e with its Attrs array zeroed.
func (e *Entry) appendAttr(key string, v slog.Value) {
	n := len(e.Attrs)
	if n == cap(e.Attrs) {
		e.Attrs = append(e.Attrs, slog.Attr{})
	} else {
		e.Attrs = e.Attrs[:n+1]
	}
	a := &e.Attrs[n]
	a.Key, a.Value = key, v
}
