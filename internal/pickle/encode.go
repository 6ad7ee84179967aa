// Package pickle reads and writes Python pickles of logging.LogRecord
// dicts, the payload of Python's SocketHandler and DatagramHandler.
//
// Encoder writes protocol 4 opcodes for the fixed shape of a record dict
// (strings, integers, floats, booleans, None, nested dicts) without a memo,
// which every Python 3 reads. Decode reads any protocol (0–5) but only
// data: it never imports, calls or builds anything, unlike Python's
// pickle.loads.
package pickle

import (
	"encoding/binary"
	"math"
	"time"
	"unicode/utf8"

	"github.com/netlog-go/netlog/record"
)

// Opcodes, named as in CPython's Lib/pickle.py.
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opProto          = 0x80
	opNewObj         = 0x81
	opExt1           = 0x82
	opExt2           = 0x83
	opExt4           = 0x84
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opNewObjEx       = 0x92
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadonlyBuffer = 0x98
)

// Encoder writes a record as the pickle Python's SocketHandler.makePickle
// produces (without the length prefix, which is framing): a dict of the
// LogRecord's attributes with msg merged and args and exc_info None.
var Encoder record.Encoder = encoder{}

// Format is Encoder with its standard keys encoded once.
var Format = record.NewFormat(Encoder)

type encoder struct{}

func (encoder) Begin(b []byte) []byte { return append(b, opProto, 4, opEmptyDict, opMark) }
func (encoder) End(b []byte) []byte   { return append(b, opSetItems, opStop) }
func (encoder) Open(b []byte) []byte  { return append(b, opEmptyDict, opMark) }
func (encoder) Close(b []byte) []byte { return append(b, opSetItems) }
func (encoder) Null(b []byte) []byte  { return append(b, opNone) }

func (e encoder) Key(b []byte, k string) []byte { return e.String(b, k) }

func (encoder) Bool(b []byte, v bool) []byte {
	if v {
		return append(b, opNewTrue)
	}
	return append(b, opNewFalse)
}

func (encoder) Int(b []byte, i int64) []byte {
	switch {
	case i >= 0 && i < 1<<8:
		return append(b, opBinInt1, byte(i))
	case i >= 0 && i < 1<<16:
		return append(b, opBinInt2, byte(i), byte(i>>8))
	case i >= math.MinInt32 && i <= math.MaxInt32:
		return binary.LittleEndian.AppendUint32(append(b, opBinInt), uint32(i))
	}
	return binary.LittleEndian.AppendUint64(append(b, opLong1, 8), uint64(i))
}

func (e encoder) Uint(b []byte, u uint64) []byte {
	if u <= math.MaxInt64 {
		return e.Int(b, int64(u))
	}
	// Nine little-endian bytes: the ninth, zero, keeps the sign positive.
	return append(binary.LittleEndian.AppendUint64(append(b, opLong1, 9), u), 0)
}

func (encoder) Float(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, opBinFloat), math.Float64bits(f))
}

// Decimal writes n·10^-scale as a float, as Python holds its timestamps.
func (e encoder) Decimal(b []byte, n int64, scale int) []byte {
	return e.Float(b, float64(n)/pow10[scale])
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// String writes s as UTF-8; invalid bytes become U+FFFD, because Python
// refuses a whole pickle whose string is not UTF-8.
func (encoder) String(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		return appendSanitized(b, s)
	}
	if len(s) < 1<<8 {
		return append(append(b, opShortBinUni, byte(len(s))), s...)
	}
	b = binary.LittleEndian.AppendUint32(append(b, opBinUnicode), uint32(len(s)))
	return append(b, s...)
}

func appendSanitized(b []byte, s string) []byte {
	b = append(b, opBinUnicode, 0, 0, 0, 0)
	start := len(b)
	for _, r := range s { // ranging over a string yields U+FFFD for bad bytes
		b = utf8.AppendRune(b, r)
	}
	binary.LittleEndian.PutUint32(b[start-4:start], uint32(len(b)-start))
	return b
}

// Time writes RFC 3339 text, which is always shorter than 256 bytes.
func (encoder) Time(b []byte, t time.Time) []byte {
	b = append(b, opShortBinUni, 0)
	start := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b[start-1] = byte(len(b) - start)
	return b
}
