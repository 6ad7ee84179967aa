package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netlog-go/netlog/record"
)

// ErrRefused wraps every refusal of an opcode that would make Python import
// a module, call a function or build an object.
var ErrRefused = errors.New("refused: netlog never imports, calls or builds objects from a pickle")

// maxIntBytes bounds an integer's size: Python itself refuses to print ints
// of more than 4300 digits (sys.int_info.default_max_str_digits).
const maxIntBytes = 1 << 11

// Decode reads the pickle of a LogRecord dict (the payload of one frame of
// Python's SocketHandler) into an Entry. It accepts protocols 0 to 5 and
// only data opcodes; opcodes that import, call or build (GLOBAL,
// STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, NEWOBJ_EX, EXT*, PERSID,
// buffers) are refused with an error wrapping ErrRefused.
//
// Time and memory are linear in len(p): every length is checked against
// the bytes left, nesting is bounded by record.MaxDepth, and the value the
// machine built — whose memo lets one string, integer or container be
// referenced many times — is turned into plain data under the payload's
// record.Budget, each reference charged at the full size of what it
// references, every time. The first byte over the budget stops the
// decoding with an error wrapping record.ErrAmplified; so does a value of
// more nodes than one per two payload bytes.
//
// A flat dict of scalars, the record Python's SocketHandler and netlog
// send, is read by a fast path (two allocations: the Entry with its
// attributes, and one string holding its text — all of it but the keys
// and string values that the record before had at the same place, whose
// strings it shares); anything else by the general machine, with the
// same result. The Entry does not refer to p.
func Decode(p []byte) (*record.Entry, error) {
	if e := fastDecode(nil, p); e != nil {
		return e, nil
	}
	return decode(p)
}

// DecodeInto is Decode into e, which it overwrites: e's Attrs keep their
// array, so that a caller that reuses one Entry decodes a flat record
// with at most one allocation (the string that holds its text; none if
// all of it is the record before's). Lifetime: e does
// not refer to p, which the caller may reuse at once; e's strings are
// never overwritten (they stay valid for as long as anyone holds them),
// but e itself and its Attrs array are, by the next DecodeInto into e —
// whoever holds e or e.Attrs past that must copy them. On error e is
// unchanged.
func DecodeInto(e *record.Entry, p []byte) error {
	if fastDecode(e, p) != nil {
		return nil
	}
	d, err := decode(p)
	if err != nil {
		return err
	}
	*e = *d
	return nil
}

// decode is Decode by the general machine.
func decode(p []byte) (*record.Entry, error) {
	v, err := Unpickle(p)
	if err != nil {
		return nil, err
	}
	d, ok := v.([]record.KV)
	if !ok {
		return nil, fmt.Errorf("pickle: %w (got %T)", record.ErrNotRecord, v)
	}
	return record.FromDict(d), nil
}

// Unpickle reads one pickle into plain data: nil, bool, int64, *big.Int,
// float64, string, []byte, []any (lists, tuples, sets) or []record.KV (dicts,
// in insertion order). Its limits are those of Decode.
func Unpickle(p []byte) (any, error) {
	m := machine{in: p, memo: map[uint64]any{}}
	v, err := m.run()
	if err != nil {
		return nil, fmt.Errorf("pickle: at byte %d: %w", m.pos, err)
	}
	f := flattener{nodes: len(p)/2 + 64, budget: record.NewBudget(len(p))}
	if v, err = f.plain(v, 0, 0); err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return v, nil
}

// While it runs, the machine holds dicts and lists by pointer, because
// SETITEM and APPEND change them in place and the memo may share them.
type (
	dict  struct{ kvs []kvAny }
	list  struct{ items []any }
	kvAny struct{ k, v any }
)

type machine struct {
	in    []byte
	pos   int
	stack []any
	marks []int
	memo  map[uint64]any
}

var errTruncated = errors.New("truncated pickle")

// emptyTuple is pushed for every EMPTY_TUPLE: a tuple never changes, so
// one boxed value serves all, and a payload of them allocates nothing.
var emptyTuple any = []any{}

func (m *machine) run() (any, error) {
	for m.pos < len(m.in) {
		op := m.in[m.pos]
		m.pos++
		if op == opStop {
			if len(m.stack) != 1 || len(m.marks) != 0 {
				return nil, errors.New("STOP with an unbalanced stack")
			}
			return m.stack[0], nil
		}
		if err := m.step(op); err != nil {
			return nil, err
		}
	}
	return nil, errTruncated
}

func (m *machine) step(op byte) error {
	switch op {
	case opProto:
		v, err := m.take(1)
		if err == nil && v[0] > 5 {
			err = fmt.Errorf("unsupported protocol %d", v[0])
		}
		return err
	case opFrame:
		_, err := m.take(8)
		return err
	case opMark:
		m.marks = append(m.marks, len(m.stack))
	case opPop:
		_, err := m.pop()
		return err
	case opPopMark:
		_, err := m.popMark()
		return err
	case opDup:
		v, err := m.top()
		m.push(v)
		return err
	case opNone:
		m.push(nil)
	case opNewTrue:
		m.push(true)
	case opNewFalse:
		m.push(false)
	case opEmptyDict:
		m.push(&dict{})
	case opEmptyList:
		m.push(&list{})
	case opEmptyTuple:
		m.push(emptyTuple)
	case opEmptySet:
		m.push(&list{})
	case opTuple1, opTuple2, opTuple3:
		return m.tupleN(int(op-opTuple1) + 1)
	case opTuple, opFrozenSet:
		items, err := m.popMark()
		m.push(items)
		return err
	case opList:
		items, err := m.popMark()
		m.push(&list{items: items})
		return err
	case opDict:
		items, err := m.popMark()
		if err == nil {
			d := &dict{}
			err = d.set(items)
			m.push(d)
		}
		return err
	case opAppend, opAppends, opAddItems, opSetItem, opSetItems:
		return m.fill(op)
	case opPut, opBinPut, opLongBinPut, opMemoize:
		return m.put(op)
	case opGet, opBinGet, opLongBinGet:
		return m.get(op)
	case opGlobal, opInst:
		return m.refuseGlobal(op)
	case opStackGlobal, opReduce, opBuild, opObj, opNewObj, opNewObjEx,
		opExt1, opExt2, opExt4, opPersID, opBinPersID, opNextBuffer, opReadonlyBuffer:
		return fmt.Errorf("opcode %s %w", opName(op), ErrRefused)
	default:
		return m.scalar(op)
	}
	return nil
}

// scalar pushes the value of a number, string or bytes opcode.
func (m *machine) scalar(op byte) error {
	var v any
	var err error
	switch op {
	case opBinInt1:
		v, err = m.binInt(1)
	case opBinInt2:
		v, err = m.binInt(2)
	case opBinInt:
		v, err = m.binInt(4)
	case opLong1, opLong4:
		v, err = m.binLong(op)
	case opInt, opLong:
		v, err = m.textInt(op)
	case opFloat:
		v, err = m.textFloat()
	case opBinFloat:
		var b []byte
		if b, err = m.take(8); err == nil {
			v = math.Float64frombits(binary.BigEndian.Uint64(b))
		}
	case opShortBinUni, opBinUnicode, opBinUnicode8, opShortBinString, opBinString:
		var b []byte
		if b, err = m.counted(op); err == nil {
			v = strings.ToValidUTF8(string(b), "\ufffd")
		}
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		var b []byte
		if b, err = m.counted(op); err == nil {
			v = bytes.Clone(b)
		}
	case opUnicode:
		v, err = m.rawUnicode()
	case opString:
		v, err = m.quotedString()
	default:
		return fmt.Errorf("unknown opcode 0x%02x", op)
	}
	m.push(v)
	return err
}

func (m *machine) push(v any) { m.stack = append(m.stack, v) }

func (m *machine) top() (any, error) {
	if len(m.stack) == 0 || m.markedTop() {
		return nil, errors.New("stack underflow")
	}
	return m.stack[len(m.stack)-1], nil
}

// markedTop reports whether the top of the stack belongs to an outer mark.
func (m *machine) markedTop() bool {
	return len(m.marks) > 0 && m.marks[len(m.marks)-1] == len(m.stack)
}

func (m *machine) pop() (any, error) {
	v, err := m.top()
	if err == nil {
		m.stack = m.stack[:len(m.stack)-1]
	}
	return v, err
}

func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, errors.New("no MARK on the stack")
	}
	at := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := append([]any(nil), m.stack[at:]...)
	m.stack = m.stack[:at]
	return items, nil
}

func (m *machine) tupleN(n int) error {
	if len(m.stack) < n || (len(m.marks) > 0 && m.marks[len(m.marks)-1] > len(m.stack)-n) {
		return errors.New("stack underflow")
	}
	items := append([]any(nil), m.stack[len(m.stack)-n:]...)
	m.stack = m.stack[:len(m.stack)-n]
	m.push(items)
	return nil
}

// fill runs APPEND, APPENDS, ADDITEMS, SETITEM and SETITEMS. The items
// are added straight from the stack, which is then cut back.
func (m *machine) fill(op byte) error {
	at := len(m.stack) - 1
	switch op {
	case opSetItem:
		at--
	case opAppends, opAddItems, opSetItems:
		if len(m.marks) == 0 {
			return errors.New("no MARK on the stack")
		}
		at = m.marks[len(m.marks)-1]
		m.marks = m.marks[:len(m.marks)-1]
	}
	floor := 0
	if len(m.marks) > 0 {
		floor = m.marks[len(m.marks)-1]
	}
	if at-1 < floor {
		return errors.New("stack underflow")
	}
	items, target := m.stack[at:], m.stack[at-1]
	defer func() { clear(items); m.stack = m.stack[:at] }()
	setting := op == opSetItem || op == opSetItems
	switch t := target.(type) {
	case *list:
		if !setting {
			t.items = append(t.items, items...)
			return nil
		}
	case *dict:
		if setting {
			return t.set(items)
		}
	}
	return fmt.Errorf("%s on a %s", opName(op), typeName(target))
}

func (d *dict) set(items []any) error {
	if len(items)%2 != 0 {
		return errors.New("odd number of items for a dict")
	}
	for i := 0; i < len(items); i += 2 {
		d.kvs = append(d.kvs, kvAny{items[i], items[i+1]})
	}
	return nil
}

func (m *machine) put(op byte) error {
	v, err := m.top()
	if err != nil {
		return err
	}
	var idx uint64
	switch op {
	case opMemoize:
		idx = uint64(len(m.memo))
	case opPut:
		idx, err = m.textIndex()
	default:
		idx, err = m.binIndex(op == opLongBinPut)
	}
	m.memo[idx] = v
	return err
}

func (m *machine) get(op byte) error {
	var idx uint64
	var err error
	if op == opGet {
		idx, err = m.textIndex()
	} else {
		idx, err = m.binIndex(op == opLongBinGet)
	}
	if err != nil {
		return err
	}
	v, ok := m.memo[idx]
	if !ok {
		return fmt.Errorf("memo key %d not found", idx)
	}
	m.push(v)
	return nil
}

// refuseGlobal names what GLOBAL or INST would have imported, for the report.
func (m *machine) refuseGlobal(op byte) error {
	module, _ := m.line()
	name, _ := m.line()
	return fmt.Errorf("opcode %s %q %w", opName(op), string(module)+"."+string(name), ErrRefused)
}

// take returns the next n bytes of input, or an error if fewer are left:
// a length field can never make the decoder allocate more than it holds.
func (m *machine) take(n uint64) ([]byte, error) {
	if n > uint64(len(m.in)-m.pos) {
		return nil, fmt.Errorf("%w: %d bytes announced, %d left", errTruncated, n, len(m.in)-m.pos)
	}
	b := m.in[m.pos : m.pos+int(n)]
	m.pos += int(n)
	return b, nil
}

// counted reads a length-prefixed string or bytes argument.
func (m *machine) counted(op byte) ([]byte, error) {
	width := uint64(4)
	switch op {
	case opShortBinUni, opShortBinString, opShortBinBytes:
		width = 1
	case opBinUnicode8, opBinBytes8, opByteArray8:
		width = 8
	}
	n, err := m.uintLE(width)
	if err != nil {
		return nil, err
	}
	return m.take(n)
}

func (m *machine) uintLE(width uint64) (uint64, error) {
	b, err := m.take(width)
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

func (m *machine) binIndex(long bool) (uint64, error) {
	if long {
		return m.uintLE(4)
	}
	return m.uintLE(1)
}

func (m *machine) binInt(n int) (any, error) {
	u, err := m.uintLE(uint64(n))
	if n == 4 {
		return int64(int32(u)), err
	}
	return int64(u), err
}

// binLong reads LONG1/LONG4: little-endian two's complement of any width.
func (m *machine) binLong(op byte) (any, error) {
	width := uint64(1)
	if op == opLong4 {
		width = 4
	}
	n, err := m.uintLE(width)
	if err != nil {
		return nil, err
	}
	if n > maxIntBytes {
		return nil, fmt.Errorf("integer of %d bytes is over the limit of %d", n, maxIntBytes)
	}
	b, err := m.take(n)
	if err != nil {
		return nil, err
	}
	if len(b) <= 8 {
		var buf [8]byte
		copy(buf[:], b)
		if len(b) > 0 && b[len(b)-1]&0x80 != 0 {
			for i := len(b); i < 8; i++ {
				buf[i] = 0xff
			}
		}
		return int64(binary.LittleEndian.Uint64(buf[:])), nil
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return normalize(v), nil
}

// normalize returns an int64 when v fits in one.
func normalize(v *big.Int) any {
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

// line reads a newline-terminated text argument (protocol 0).
func (m *machine) line() ([]byte, error) {
	i := bytes.IndexByte(m.in[m.pos:], '\n')
	if i < 0 {
		return nil, fmt.Errorf("%w: no newline after text argument", errTruncated)
	}
	l := m.in[m.pos : m.pos+i]
	m.pos += i + 1
	return l, nil
}

func (m *machine) textIndex() (uint64, error) {
	l, err := m.line()
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(l), 10, 64)
}

// textInt reads INT ("I01" and "I00" are protocol 0's True and False) and LONG.
func (m *machine) textInt(op byte) (any, error) {
	l, err := m.line()
	if err != nil {
		return nil, err
	}
	s := strings.TrimSuffix(string(l), "L")
	if op == opInt && (s == "01" || s == "00") {
		return s == "01", nil
	}
	if len(s) > 2*maxIntBytes {
		return nil, fmt.Errorf("integer of %d digits is over the limit", len(s))
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("bad integer %q", s)
	}
	return normalize(v), nil
}

func (m *machine) textFloat() (any, error) {
	l, err := m.line()
	if err != nil {
		return nil, err
	}
	return strconv.ParseFloat(string(l), 64)
}

// rawUnicode decodes UNICODE's raw-unicode-escape text: bytes are Latin-1,
// except \uXXXX and \UXXXXXXXX escapes.
func (m *machine) rawUnicode() (any, error) {
	l, err := m.line()
	if err != nil {
		return nil, err
	}
	var sb strings.Builder
	for i := 0; i < len(l); i++ {
		if l[i] == '\\' && i+1 < len(l) && (l[i+1] == 'u' || l[i+1] == 'U') {
			n := 4
			if l[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(l) {
				if r, err := strconv.ParseUint(string(l[i+2:i+2+n]), 16, 32); err == nil {
					sb.WriteRune(rune(r))
					i += 1 + n
					continue
				}
			}
		}
		sb.WriteRune(rune(l[i]))
	}
	return strings.ToValidUTF8(sb.String(), "\ufffd"), nil
}

// quotedString decodes STRING, Python 2's quoted repr of a byte string.
func (m *machine) quotedString() (any, error) {
	l, err := m.line()
	if err != nil {
		return nil, err
	}
	if len(l) < 2 || (l[0] != '\'' && l[0] != '"') || l[len(l)-1] != l[0] {
		return nil, errors.New("STRING argument is not quoted")
	}
	return strings.ToValidUTF8(unescapeRepr(l[1:len(l)-1]), "\ufffd"), nil
}

// unescapeRepr undoes the escapes of Python's repr of a byte string;
// an unknown escape is kept as written, as Python does.
func unescapeRepr(s []byte) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			sb.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case '\\', '\'', '"':
			sb.WriteByte(s[i])
		case 'x':
			if v, err := strconv.ParseUint(string(s[i+1:min(i+3, len(s))]), 16, 8); err == nil && i+3 <= len(s) {
				sb.WriteByte(byte(v))
				i += 2
				continue
			}
			fallthrough
		default:
			sb.WriteByte('\\')
			sb.WriteByte(s[i])
		}
	}
	return sb.String()
}

// flattener turns the machine's values into the plain data of Unpickle,
// charging each value to the budget every time it is reached, before
// building it. It stops past record.MaxDepth (which also ends a
// self-referencing cycle).
type flattener struct {
	nodes  int
	budget record.Budget
}

func (f *flattener) plain(v any, depth, prefix int) (any, error) {
	if f.nodes--; f.nodes < 0 {
		return nil, fmt.Errorf("%w: more values than its payload holds", record.ErrAmplified)
	}
	if depth > record.MaxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", record.MaxDepth)
	}
	var items []any
	switch x := v.(type) {
	case *dict:
		return f.dict(x, depth, prefix)
	case *list:
		items = x.items
	case []any:
		items = x
	default:
		return v, f.budget.Charge(record.Cost(v))
	}
	if err := f.budget.Charge(2 + 2*len(items)); err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, item := range items {
		var err error
		if out[i], err = f.plain(item, depth+1, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dict keeps Python's dict semantics: a repeated key keeps its first
// place and takes its last value. Each value that is not a group is also
// charged the length of the group path above it (prefix), which the text
// form repeats.
func (f *flattener) dict(d *dict, depth, prefix int) ([]record.KV, error) {
	if err := f.budget.Charge(2 + 2*len(d.kvs)); err != nil {
		return nil, err
	}
	out := make([]record.KV, 0, len(d.kvs))
	index := make(map[string]int, len(d.kvs))
	for _, kv := range d.kvs {
		k, err := f.plain(kv.k, depth+1, 0)
		if err != nil {
			return nil, err
		}
		key := keyString(k)
		if _, ok := k.(string); !ok {
			err = f.budget.Charge(len(key)) // its text, besides its value
		}
		var v any
		if err == nil {
			v, err = f.plain(kv.v, depth+1, prefix+len(key)+1)
		}
		if err == nil {
			err = f.budget.Charge(record.PathCost(v, prefix))
		}
		if err != nil {
			return nil, err
		}
		if i, ok := index[key]; ok {
			out[i].Value = v
			continue
		}
		index[key] = len(out)
		out = append(out, record.KV{Key: key, Value: v})
	}
	return out, nil
}

func keyString(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
	}
	return fmt.Sprint(k)
}

func typeName(v any) string {
	switch v.(type) {
	case *dict:
		return "dict"
	case *list:
		return "list"
	case []any:
		return "tuple"
	}
	return fmt.Sprintf("%T", v)
}

var opNames = map[byte]string{
	opGlobal: "GLOBAL", opInst: "INST", opStackGlobal: "STACK_GLOBAL",
	opReduce: "REDUCE", opBuild: "BUILD", opObj: "OBJ", opNewObj: "NEWOBJ",
	opNewObjEx: "NEWOBJ_EX", opExt1: "EXT1", opExt2: "EXT2", opExt4: "EXT4",
	opPersID: "PERSID", opBinPersID: "BINPERSID", opNextBuffer: "NEXT_BUFFER",
	opReadonlyBuffer: "READONLY_BUFFER", opAppend: "APPEND", opAppends: "APPENDS",
	opAddItems: "ADDITEMS", opSetItem: "SETITEM", opSetItems: "SETITEMS",
}

func opName(op byte) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", op)
}
