package record_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/entrytest"
	"github.com/netlog-go/netlog/record"
)

// jsonDecoders are the JSON decoders, for entrytest.Decoders.Agree.
var jsonDecoders = entrytest.Decoders{
	Decode: record.DecodeJSON, Into: record.DecodeJSONInto, Fast: record.DecodeJSONFast, General: record.DecodeJSONGeneral,
}

func agreeJSON(t *testing.T, p []byte) bool {
	t.Helper()
	return jsonDecoders.Agree(t, p)
}

// flatJSONEntry is a record as a Go program logs it through netlog, with
// scalar attributes.
func flatJSONEntry() *record.Entry {
	return &record.Entry{
		Name: "app", Msg: "héllo ✓ \"quoted\"\n\tline two", LevelNo: 30, LevelName: "WARNING",
		Created: time.Date(2026, 11, 24, 5, 0, 0, 123456000, time.UTC), Pathname: "/src/app/main.go",
		Lineno: 42, FuncName: "main.run", Process: 1234, ExcText: "trace\nback",
		Attrs: []slog.Attr{slog.String("s", "ünïcode"), slog.Int("n", 40000), slog.Float64("f", 0.25),
			slog.Bool("ok", true), slog.Any("nil", nil), slog.Duration("d", time.Second),
			slog.String("long", strings.Repeat("x", 300))},
	}
}

// TestJSONFastPathShapes: what the fast path reads, and what it leaves to
// the general reader.
func TestJSONFastPathShapes(t *testing.T) {
	for name, c := range map[string]struct {
		p    string
		fast bool
	}{
		"netlog encoder, flat":    {string(record.JSONFormat.AppendEntry(nil, flatJSONEntry())), true},
		"empty":                   {"{}", true},
		"white space":             {" \t{ \"a\" : 1 ,\n\"b\":null }\r\n", true},
		"repeated keys":           {`{"a":1,"a":2,"msg":"x","msg":null,"levelno":1,"levelno":"s"}`, true},
		"escapes":                 {`{"a":"\"\\\/\b\f\n\r\t\u00e9\u2028\u0000"}`, true},
		"surrogate pair":          {`{"a":"\ud83d\ude00"}`, false},
		"lone surrogate":          {`{"a":"\ud83d"}`, false},
		"invalid UTF-8":           {"{\"a\":\"\xff\"}", false},
		"control byte":            {"{\"a\":\"\x01\"}", false},
		"bad escape":              {`{"a":"\x"}`, false},
		"numbers":                 {`{"a":-0,"b":1e3,"c":-1.5E-7,"d":123456789012345678}`, true},
		"19 digits":               {`{"a":1234567890123456789}`, false},
		"float over MaxNumberLen": {`{"a":0.` + strings.Repeat("1", record.MaxNumberLen) + `}`, false},
		"float out of range":      {`{"a":1e999}`, false},
		"leading zero":            {`{"a":01}`, false},
		"nested":                  {`{"g":{"a":1}}`, true},
		"syslog structured data":  {nestedJSON, true},
		"groups 4 deep":           {`{"a":{"b":{"c":{"d":{"e":1}},"f":2}}}`, true},
		"groups 5 deep":           {`{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}`, false},
		"empty groups":            {`{"g":{},"h":{"i":{},"j":1},"k":{"l":{}}}`, true},
		"field names in groups":   {`{"g":{"msg":1,"levelno":"x","created":"y","name":"n"},"msg":"m"}`, true},
		"fields with objects":     {`{"msg":{"a":1},"levelno":{},"msecs":{"x":1},"created":{"b":null},"args":{},"thread":{"t":true}}`, true},
		"repeated keys in groups": {`{"g":{"a":1,"a":{"b":2}},"g":{}}`, true},
		"group path over budget":  {`{"` + strings.Repeat("k", 2000) + `":{"` + strings.Repeat("k", 2000) + `":{` + strings.Repeat(`"a":0,`, 100) + `"a":0}}}`, false},
		"array":                   {`{"g":[1]}`, false},
		"array in a group":        {`{"g":{"a":[1]}}`, false},
		"bad group":               {`{"g":{"a":1,}}`, false},
		"unclosed group":          {`{"g":{"a":1}`, false},
		"trailing comma":          {`{"a":1,}`, false},
		"data after":              {`{"a":1} x`, false},
		"two objects":             {`{}{}`, false},
		"not an object":           {`[1]`, false},
		"created and relative":    {`{"created":1795496400.123456,"relativeCreated":12.5,"created":null}`, true},
		"wrong types to attrs":    {`{"name":1,"thread":"x","args":1,"msecs":"y","exc_info":null}`, true},
		"truncated":               {`{"a":"b`, false},
	} {
		if fast := agreeJSON(t, []byte(c.p)); fast != c.fast {
			t.Errorf("%s: fast path taken %v, want %v", name, fast, c.fast)
		}
	}
}

// FuzzDecodeJSON: no input makes DecodeJSON panic; wherever the fast path
// takes one, the general reader takes it with the same result.
func FuzzDecodeJSON(f *testing.F) {
	f.Add(record.JSONFormat.AppendEntry(nil, flatJSONEntry()))
	f.Add([]byte(`{"a":"\ud83d\ude00","b":[1,{"c":null}],"d":1e999,"e":-0.5e-3}`))
	f.Add([]byte(`{"a":1,"a":"x","levelno":null}`))
	f.Add([]byte(nestedJSON))
	f.Add([]byte(`{"msg":{"a":{}},"g":{"msg":1,"h":{"i":{"j":{"k":1.5}},"l":{}}},"levelno":{"x":"y"},"msecs":{}}`))
	f.Add([]byte(`{"` + strings.Repeat("k", 300) + `":{"` + strings.Repeat("k", 300) + `":{"a":0,"a":0,"a":0}}}`))
	f.Fuzz(func(t *testing.T, p []byte) { agreeJSON(t, p) })
}
