package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"strconv"
	"time"
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
	for _, kv := range d {
		if !setField(e, kv) {
			e.Attrs = append(e.Attrs, slog.Attr{Key: kv.Key, Value: Value(kv.Value)})
		}
	}
	return e
}

// setField stores kv in e's standard fields and reports whether it did.
func setField(e *Entry, kv KV) bool {
	str := func(dst *string) bool {
		switch v := kv.Value.(type) {
		case string:
			*dst = v
			return true
		case nil:
			return true
		}
		return false
	}
	integer := func(dst *int64) bool {
		switch v := kv.Value.(type) {
		case int64:
			*dst = v
			return true
		case nil:
			return true
		}
		return false
	}
	var n int64
	switch kv.Key {
	case FieldName:
		return str(&e.Name)
	case FieldMsg:
		return str(&e.Msg)
	case FieldLevelName:
		return str(&e.LevelName)
	case FieldPathname:
		return str(&e.Pathname)
	case FieldFilename:
		return str(&e.Filename)
	case FieldModule:
		return str(&e.Module)
	case FieldFuncName:
		return str(&e.FuncName)
	case FieldThreadName:
		return str(&e.ThreadName)
	case FieldProcessName:
		return str(&e.ProcessName)
	case FieldTaskName:
		return str(&e.TaskName)
	case FieldExcText:
		return str(&e.ExcText)
	case FieldStackInfo:
		return str(&e.StackInfo)
	case FieldThread:
		return integer(&e.Thread)
	case FieldLevelNo:
		ok := integer(&n)
		e.LevelNo = int(n)
		return ok
	case FieldLineno:
		ok := integer(&n)
		e.Lineno = int(n)
		return ok
	case FieldProcess:
		ok := integer(&n)
		e.Process = int(n)
		return ok
	case FieldArgs, FieldExcInfo, FieldMsecs:
		// args and exc_info are None on the wire; msecs is derived from created.
		return kv.Value == nil || kv.Key == FieldMsecs
	case FieldCreated:
		f, ok := number(kv.Value)
		if ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			sec, frac := math.Modf(f)
			e.Created = time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3)
		}
		return ok
	case FieldRelative:
		f, ok := number(kv.Value)
		e.Relative = time.Duration(f * 1e6)
		return ok
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// Value converts a decoded value to a slog.Value: a dict becomes a group,
// a big integer its decimal text, a list a []any of converted values.
func Value(v any) slog.Value {
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
		return slog.StringValue(x.String())
	case []KV:
		attrs := make([]slog.Attr, len(x))
		for i, kv := range x {
			attrs[i] = slog.Attr{Key: kv.Key, Value: Value(kv.Value)}
		}
		return slog.GroupValue(attrs...)
	case []any:
		list := make([]any, len(x))
		for i, item := range x {
			list[i] = Value(item).Any()
		}
		return slog.AnyValue(list)
	}
	return slog.AnyValue(v)
}

// DecodeJSON decodes one record in the JSON wire form. Keys keep their
// order; nesting deeper than MaxDepth is refused.
func DecodeJSON(p []byte) (*Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	v, err := readJSON(dec, 0)
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

func readJSON(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("nesting deeper than %d", MaxDepth)
		}
		if t == '{' {
			return readJSONObject(dec, depth+1)
		}
		return readJSONArray(dec, depth+1)
	case json.Number:
		if i, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			return i, nil
		}
		if i, ok := new(big.Int).SetString(t.String(), 10); ok {
			return i, nil
		}
		return t.Float64()
	}
	return tok, nil // string, bool or nil
}

func readJSONObject(dec *json.Decoder, depth int) ([]KV, error) {
	d := []KV{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		v, err := readJSON(dec, depth)
		if err != nil {
			return nil, err
		}
		d = append(d, KV{Key: tok.(string), Value: v})
	}
	_, err := dec.Token() // '}'
	return d, err
}

func readJSONArray(dec *json.Decoder, depth int) ([]any, error) {
	list := []any{}
	for dec.More() {
		v, err := readJSON(dec, depth)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	_, err := dec.Token() // ']'
	return list, err
}
