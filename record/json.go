package record

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// JSON is the JSON wire form of a record: one object whose keys are the
// LogRecord fields of AppendHead and the attributes, groups as nested
// objects. It is the same dict a pickle carries, spelled as JSON.
var JSON Encoder = jsonEncoder{}

// JSONFormat is JSON with its standard keys encoded once.
var JSONFormat = NewFormat(JSON)

// jsonEncoder ends every value with a comma and removes the last one when it
// closes an object, so that a preformatted run of pairs needs no knowledge
// of what stands before it.
type jsonEncoder struct{}

func (jsonEncoder) Begin(b []byte) []byte        { return append(b, '{') }
func (jsonEncoder) End(b []byte) []byte          { return append(trimComma(b), '}') }
func (jsonEncoder) Open(b []byte) []byte         { return append(b, '{') }
func (jsonEncoder) Close(b []byte) []byte        { return append(trimComma(b), '}', ',') }
func (jsonEncoder) Null(b []byte) []byte         { return append(b, "null,"...) }
func (jsonEncoder) Int(b []byte, i int64) []byte { return append(strconv.AppendInt(b, i, 10), ',') }
func (jsonEncoder) Uint(b []byte, u uint64) []byte {
	return append(strconv.AppendUint(b, u, 10), ',')
}
func (jsonEncoder) Bool(b []byte, v bool) []byte { return append(strconv.AppendBool(b, v), ',') }
func (jsonEncoder) Key(b []byte, k string) []byte {
	return append(appendJSONString(b, k), ':')
}
func (jsonEncoder) String(b []byte, s string) []byte {
	return append(appendJSONString(b, s), ',')
}

func (jsonEncoder) Time(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"', ',')
}

// Float writes what encoding/json writes; NaN and ±Inf, which JSON cannot
// hold, become the strings "NaN", "+Inf" and "-Inf".
func (e jsonEncoder) Float(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return e.String(b, "NaN")
	case math.IsInf(f, 0):
		if f > 0 {
			return e.String(b, "+Inf")
		}
		return e.String(b, "-Inf")
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return append(strconv.AppendFloat(b, f, format, -1, 64), ',')
}

// Decimal writes n·10^-scale as exact decimal text, without the cost of
// finding the shortest form of a float.
func (jsonEncoder) Decimal(b []byte, n int64, scale int) []byte {
	u := uint64(n)
	if n < 0 {
		b = append(b, '-')
		u = -u // the magnitude, MinInt64's too (a decoded relativeCreated may be)
	}
	p := pow10[scale]
	b = strconv.AppendUint(b, u/p, 10)
	if scale > 0 {
		frac := u % p
		b = append(b, '.')
		for d := p / 10; d > 0; d /= 10 {
			b = append(b, byte('0'+frac/d%10))
		}
	}
	return append(b, ',')
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

func trimComma(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == ',' {
		return b[:n-1]
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s; invalid UTF-8 becomes U+FFFD, as in encoding/json.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
