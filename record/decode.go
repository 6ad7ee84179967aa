package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strconv"
)

// KV is one key and value of a decoded dict, in the order the sender wrote
// them. A Value is nil, bool, int64, *big.Int, float64, string, []byte, []any
// or []KV (a nested dict): plain data, whatever the wire format.
type KV struct {
	Key   string
	Value any
}

// MaxDepth bounds how deeply a decoded record may nest containers.
const MaxDepth = 64

// ErrNotRecord reports a payload that decodes but is not a record dict.
var ErrNotRecord = errors.New("payload is not a record dict")

// FromDict builds an Entry from a decoded LogRecord dict: LogRecord fields
// fill the standard fields, every other key becomes an attribute (a nested
// dict becomes a group). A field of the wrong type is kept as an attribute
// rather than lost.
func FromDict(d []KV) *Entry {
	e := &Entry{}
	var c converter
	for _, kv := range d {
		if !setField(e, kv) {
			e.Attrs = append(e.Attrs, slog.Attr{Key: kv.Key, Value: c.value(kv.Value)})
		}
	}
	return e
}

// setField stores kv in e's standard fields and reports whether it did.
func setField(e *Entry, kv KV) bool {
	f := fieldIndex(kv.Key)
	if f < 0 {
		return false
	}
	return e.set(f, scalarOf(kv.Value))
}

// Value converts a decoded value to a slog.Value: a dict becomes a group,
// a big integer its decimal text, a list a []any of converted values.
func Value(v any) slog.Value {
	var c converter
	return c.value(v)
}

// converter makes the text of each big integer once, however many times a
// pickle's memo references it. The last one is kept outside the map, so
// that a record with one big integer costs no map.
type converter struct {
	last     *big.Int
	lastText string
	texts    map[*big.Int]string
}

func (c *converter) bigText(x *big.Int) string {
	if x == c.last {
		return c.lastText
	}
	s, ok := c.texts[x]
	if !ok {
		s = x.String()
	}
	if c.last != nil {
		if c.texts == nil {
			c.texts = map[*big.Int]string{}
		}
		c.texts[c.last] = c.lastText
	}
	c.last, c.lastText = x, s
	return s
}

func (c *converter) value(v any) slog.Value {
	switch x := v.(type) {
	case string:
		return slog.StringValue(x)
	case int64:
		return slog.Int64Value(x)
	case float64:
		return slog.Float64Value(x)
	case bool:
		return slog.BoolValue(x)
	case *big.Int:
		return slog.StringValue(c.bigText(x))
	case []KV:
		attrs := make([]slog.Attr, len(x))
		for i, kv := range x {
			attrs[i] = slog.Attr{Key: kv.Key, Value: c.value(kv.Value)}
		}
		return slog.GroupValue(attrs...)
	case []any:
		list := make([]any, len(x))
		for i, item := range x {
			list[i] = c.value(item).Any()
		}
		return slog.AnyValue(list)
	}
	return slog.AnyValue(v)
}

// DecodeJSON decodes one record in the JSON wire form. Keys keep their
// order; nesting deeper than MaxDepth, a number longer than MaxNumberLen
// and a record over the payload's Budget (an error wrapping ErrAmplified)
// are refused.
//
// An object of string keys and string, number, boolean or null values,
// or objects of those up to 4 deep (groups: a relayed syslog record's
// structured data), the record netlog sends, is read by a fast path (two
// allocations: the Entry with its attributes, and one string holding all
// its text; a third for the attributes of all its groups); anything else
// by the general reader, with the same result. The Entry does not refer
// to p.
func DecodeJSON(p []byte) (*Entry, error) {
	if e := decodeJSONFast(nil, p); e != nil {
		return e, nil
	}
	return decodeJSON(p)
}

// DecodeJSONInto is DecodeJSON into e, which it overwrites, with the
// lifetime rule of the pickle decoder's DecodeInto: e does not refer to
// p; e's strings are never overwritten, but e and its Attrs array are, by
// the next decoding into e. On error e is unchanged.
func DecodeJSONInto(e *Entry, p []byte) error {
	if decodeJSONFast(e, p) != nil {
		return nil
	}
	d, err := decodeJSON(p)
	if err != nil {
		return err
	}
	*e = *d
	return nil
}

// decodeJSON is DecodeJSON by the general reader.
func decodeJSON(p []byte) (*Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	r := jsonReader{dec: dec, budget: NewBudget(len(p))}
	v, err := r.value(0, 0)
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json: data after the record object")
	}
	d, ok := v.([]KV)
	if !ok {
		return nil, fmt.Errorf("json: %w", ErrNotRecord)
	}
	return FromDict(d), nil
}

type jsonReader struct {
	dec    *json.Decoder
	budget Budget
}

// value reads one value; prefix is the length of the group path above it.
func (r *jsonReader) value(depth, prefix int) (any, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, err
	}
	var v any = tok // string, bool or nil
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("nesting deeper than %d", MaxDepth)
		}
		if err := r.budget.Charge(2); err != nil {
			return nil, err
		}
		if t == '{' {
			return r.object(depth+1, prefix)
		}
		return r.array(depth + 1)
	case json.Number:
		if v, err = jsonNumber(t); err != nil {
			return nil, err
		}
	}
	return v, r.budget.Charge(Cost(v))
}

// jsonNumber reads an integer as int64 or *big.Int, anything else as float64.
func jsonNumber(n json.Number) (any, error) {
	if len(n) > MaxNumberLen {
		return nil, fmt.Errorf("number of %d characters is over the limit of %d", len(n), MaxNumberLen)
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return i, nil
	}
	if i, ok := new(big.Int).SetString(n.String(), 10); ok {
		return i, nil
	}
	return n.Float64()
}

func (r *jsonReader) object(depth, prefix int) ([]KV, error) {
	d := []KV{}
	for r.dec.More() {
		tok, err := r.dec.Token()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		if err := r.budget.Charge(len(k) + 2); err != nil {
			return nil, err
		}
		v, err := r.value(depth, prefix+len(k)+1)
		if err == nil {
			err = r.budget.Charge(PathCost(v, prefix))
		}
		if err != nil {
			return nil, err
		}
		d = append(d, KV{Key: k, Value: v})
	}
	_, err := r.dec.Token() // '}'
	return d, err
}

func (r *jsonReader) array(depth int) ([]any, error) {
	list := []any{}
	for r.dec.More() {
		if err := r.budget.Charge(2); err != nil {
			return nil, err
		}
		v, err := r.value(depth, 0)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	_, err := r.dec.Token() // ']'
	return list, err
}

// ErrAmplified wraps the refusal of a payload whose decoded record would be
// larger than its Budget: a pickle that references one big value many
// times through its memo, or keys nested so that their path repeats.
var ErrAmplified = errors.New("payload expands beyond its budget")

// The limits of a Budget. A payload of n bytes may decode to at most
// ExpansionFactor*n + ExpansionSlack bytes, and to no more than
// MaxExpansion unless the payload itself is larger (a server whose
// MaxFrame allows a 20 MiB record takes one the size of its payload): a
// record as Python or netlog sends it costs about as much
// as its payload (a float of 9 pickled bytes prints in up to 24), so 4×
// refuses none, while the printed output of a frame stays within a few
// times its size and the decoded tree within a few MiB at the default
// MaxFrame.
const (
	ExpansionFactor = 4
	ExpansionSlack  = 4 << 10
	MaxExpansion    = 16 << 20
)

// MaxNumberLen bounds the text of one number (digits, sign, point and
// exponent): Python itself refuses to convert integers of more than 4,300
// digits (sys.int_info.default_max_str_digits), and converting longer ones
// costs time quadratic in their length.
const MaxNumberLen = 4300

// A Budget counts the bytes a payload's decoded record takes when
// printed: each string's and bytes' length, each number's printed size,
// each key, the path of groups above each value (the text form repeats
// it), and two bytes for every container and item. A value referenced several
// times is charged every time. Decoders charge it as they build, and stop
// as soon as it is spent.
type Budget struct{ limit, left int }

// NewBudget returns the budget of a payload of n bytes.
func NewBudget(n int) Budget {
	limit := min(ExpansionFactor*n+ExpansionSlack, max(MaxExpansion, n+ExpansionSlack))
	return Budget{limit: limit, left: limit}
}

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int { return b.limit }

// Charge takes n bytes from b, or returns an error wrapping ErrAmplified
// once b is spent.
func (b *Budget) Charge(n int) error {
	if b.left -= n; b.left < 0 {
		return fmt.Errorf("%w: it decodes to more than %d bytes", ErrAmplified, b.limit)
	}
	return nil
}

// Cost is the printed size of a scalar: nil, bool, int64, *big.Int,
// float64, string or []byte (printed as a list of numbers in the text
// form). A container costs 2 bytes plus 2 per item.
func Cost(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return 4 * len(x)
	case int64:
		return intLen(x)
	case float64:
		var buf [32]byte
		return len(strconv.AppendFloat(buf[:0], x, 'g', -1, 64))
	case *big.Int:
		// An upper bound of the decimal length (log10 2 < 0.30103), so
		// that the text is made only once, when printed.
		return x.BitLen()*30103/100000 + 2
	}
	return 5 // nil, true, false
}

// PathCost is what the text form adds to a value under a group path of
// prefix bytes: it prints "group.key=" before every value that is not
// itself a group.
func PathCost(v any, prefix int) int {
	if _, group := v.([]KV); group {
		return 0
	}
	return prefix
}

func intLen(i int64) int {
	n := 1
	if i < 0 {
		n++
	}
	for i <= -10 || i >= 10 {
		i /= 10
		n++
	}
	return n
}
