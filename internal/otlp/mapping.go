// Package otlp delivers netlog's JSON frames to an OpenTelemetry
// Collector, or any OTLP/HTTP endpoint, as OTLP log records: a
// transport.Sender that the root package's async queue drives like any
// other connection. docs/otlp.md has the mapping.
package otlp

import (
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/netlog-go/netlog/record"
)

// Severity maps a Python level number to an OTLP SeverityNumber: DEBUG
// (10) to DEBUG (5), INFO (20) to INFO (9), WARNING (30) to WARN (13),
// ERROR (40) to ERROR (17), CRITICAL (50) to FATAL (21). A level between
// two names takes the lower name's range, one step per level number up to
// its fourth value (25, slog's Info+2, is INFO4 = 12; 60 and above
// FATAL4); below 10 is the TRACE range.
func Severity(levelno int) int32 {
	if levelno < 10 {
		return int32(1 + min(max(levelno, 0)*4/10, 3))
	}
	band := min(levelno/10, 5)
	step := min(levelno-10*band, 3)
	return int32(1 + 4*band + step)
}

// The attributes a record's standard fields become: OpenTelemetry's
// semantic conventions where one exists (code.* as the Python SDK's
// logging handler writes them), the LogRecord's own name otherwise.
const (
	keyFilepath   = "code.filepath"
	keyLineno     = "code.lineno"
	keyFunction   = "code.function"
	keyStack      = "code.stacktrace"
	keyThreadID   = "thread.id"
	keyThreadName = "thread.name"
	keyPID        = "process.pid"
	keyExcType    = "exception.type"
	keyExcMessage = "exception.message"
	keyExcStack   = "exception.stacktrace"
	keyClientAddr = "client.address"
	keyClientPort = "client.port"
	keyServerAddr = "server.address"
	keyServerPort = "server.port"
	keyNetwork    = "network.transport"
	keyDecodeErr  = "netlog.decode_error"
)

// The attributes netlog serve adds to a record it relays: the sender's
// address ("192.0.2.7:50122") and the listener it came in on ("tcp
// 0.0.0.0:9020").
const (
	attrPeer     = "peer"
	attrListener = "listener"
)

// unknownFile and unknownFunc are what a sender writes for a source it
// does not know (Python's own words): no code.* attribute then.
const (
	unknownFile = "(unknown file)"
	unknownFunc = "(unknown function)"
)

// The numbers of the OTLP fields netlog writes (opentelemetry-proto,
// logs/v1 and common/v1). Fields are written in the order of their
// numbers, as the protobuf module writes them.
const (
	logsDataResourceLogs  protowire.Number = 1 // LogsData, and ExportLogsServiceRequest
	resourceLogsResource  protowire.Number = 1 // ResourceLogs
	resourceLogsScopeLogs protowire.Number = 2
	resourceAttributes    protowire.Number = 1 // Resource
	scopeLogsScope        protowire.Number = 1 // ScopeLogs
	scopeLogsLogRecords   protowire.Number = 2
	scopeName             protowire.Number = 1 // InstrumentationScope

	logTime         protowire.Number = 1 // LogRecord: fixed64
	logSeverity     protowire.Number = 2 // enum
	logSeverityText protowire.Number = 3
	logBody         protowire.Number = 5
	logAttributes   protowire.Number = 6
	logObserved     protowire.Number = 11 // fixed64

	kvKey   protowire.Number = 1 // KeyValue
	kvValue protowire.Number = 2

	anyString protowire.Number = 1 // AnyValue: one of these
	anyBool   protowire.Number = 2
	anyInt    protowire.Number = 3
	anyDouble protowire.Number = 4
	anyArray  protowire.Number = 5 // ArrayValue
	anyKvlist protowire.Number = 6 // KeyValueList
	anyBytes  protowire.Number = 7

	listValues protowire.Number = 1 // ArrayValue, KeyValueList
)

// begin appends the tag of message field num and a byte for its length,
// and returns where the message starts; end writes its length.
func begin(b []byte, num protowire.Number) ([]byte, int) {
	b = append(protowire.AppendTag(b, num, protowire.BytesType), 0)
	return b, len(b)
}

// end writes the length of the message that starts at start, moving it
// up if its length needs more than the byte begin left for it.
func end(b []byte, start int) []byte {
	n := len(b) - start
	if extra := protowire.SizeVarint(uint64(n)) - 1; extra > 0 {
		b = append(b, make([]byte, extra)...)
		copy(b[start+extra:], b[start:start+n])
	}
	protowire.AppendVarint(b[:start-1], uint64(n))
	return b
}

// appendString appends string field num, unless s is "" (proto3 writes
// no empty scalar). Protobuf strings are UTF-8; a decoded record's
// strings are (its decoders replace invalid bytes), and others are made so.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), validUTF8(s))
}

func validUTF8(s string) string {
	if !utf8.ValidString(s) {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

func appendFixed64(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendFixed64(protowire.AppendTag(b, num, protowire.Fixed64Type), v)
}

// appendLogRecord appends e, observed at observed (Unix ns), as a log
// record of a ScopeLogs. The record's attributes come first, groups
// flattened into dotted keys (a group "http" with "status" is
// "http.status"), then its standard fields.
func appendLogRecord(b []byte, e *record.Entry, observed uint64) []byte {
	b, start := begin(b, scopeLogsLogRecords)
	if !e.Created.IsZero() {
		b = appendFixed64(b, logTime, uint64(e.Created.UnixNano()))
	}
	if sev := Severity(e.LevelNo); sev != 0 {
		b = protowire.AppendVarint(protowire.AppendTag(b, logSeverity, protowire.VarintType), uint64(sev))
	}
	b = appendString(b, logSeverityText, e.LevelName)
	b = appendStr(b, logBody, e.Msg)
	for _, a := range e.Attrs {
		b = appendAttr(b, "", a)
	}
	b = appendFields(b, e)
	b = appendFixed64(b, logObserved, observed)
	return end(b, start)
}

// appendUndecodable appends the log record of a frame that is not a
// record (never one netlog's encoder made): the frame's text as its
// body, so that nothing is lost, and the decoder's error.
func appendUndecodable(b, frame []byte, err error, observed uint64) []byte {
	b, start := begin(b, scopeLogsLogRecords)
	b = appendStr(b, logBody, string(frame))
	b = appendKV(b, keyDecodeErr, slog.StringValue(err.Error()))
	b = appendFixed64(b, logObserved, observed)
	return end(b, start)
}

// appendFields appends the standard fields that are known.
func appendFields(b []byte, e *record.Entry) []byte {
	if e.Pathname != "" && e.Pathname != unknownFile {
		b = appendKV(b, keyFilepath, slog.StringValue(e.Pathname))
	}
	if e.Lineno > 0 {
		b = appendKV(b, keyLineno, slog.Int64Value(int64(e.Lineno)))
	}
	if e.FuncName != "" && e.FuncName != unknownFunc {
		b = appendKV(b, keyFunction, slog.StringValue(e.FuncName))
	}
	if e.Thread != 0 {
		b = appendKV(b, keyThreadID, slog.Int64Value(e.Thread))
	}
	if e.ThreadName != "" {
		b = appendKV(b, keyThreadName, slog.StringValue(e.ThreadName))
	}
	if e.Process != 0 {
		b = appendKV(b, keyPID, slog.Int64Value(int64(e.Process)))
	}
	for _, f := range [...]struct{ k, v string }{
		{record.FieldProcessName, e.ProcessName}, {record.FieldTaskName, e.TaskName}, {keyStack, e.StackInfo},
	} {
		if f.v != "" {
			b = appendKV(b, f.k, slog.StringValue(f.v))
		}
	}
	if e.ExcText != "" {
		b = appendException(b, e.ExcText)
	}
	return b
}

// appendException appends a formatted exception as
// exception.stacktrace, and its type and message when its last line is
// Python's "Type: message".
func appendException(b []byte, text string) []byte {
	last := strings.TrimRight(text, "\n")
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	typ, msg, ok := strings.Cut(last, ": ")
	if !ok {
		typ, msg = last, ""
	}
	if typ != "" && !strings.ContainsAny(typ, " \t") {
		b = appendKV(b, keyExcType, slog.StringValue(typ))
		if msg != "" {
			b = appendKV(b, keyExcMessage, slog.StringValue(msg))
		}
	}
	return appendKV(b, keyExcStack, slog.StringValue(text))
}

// appendAttr appends a, under prefix: a group's members each with a
// dotted key, the relay's peer and listener under the semantic
// conventions' names.
func appendAttr(b []byte, prefix string, a slog.Attr) []byte {
	v := a.Value.Resolve()
	key := a.Key
	if prefix != "" && key != "" {
		key = prefix + "." + key
	} else if key == "" {
		key = prefix
	}
	if v.Kind() == slog.KindGroup {
		for _, m := range v.Group() {
			b = appendAttr(b, key, m)
		}
		return b
	}
	if prefix == "" && v.Kind() == slog.KindString {
		switch key {
		case attrPeer:
			return appendHostPort(b, v.String(), keyClientAddr, keyClientPort)
		case attrListener:
			return appendListener(b, v.String())
		}
	}
	return appendKV(b, key, v)
}

// appendListener appends the listener a relayed record came in on ("tcp
// 127.0.0.1:9020") as network.transport, server.address and server.port.
func appendListener(b []byte, listener string) []byte {
	if network, addr, ok := strings.Cut(listener, " "); ok {
		b = appendKV(b, keyNetwork, slog.StringValue(network))
		listener = addr
	}
	return appendHostPort(b, listener, keyServerAddr, keyServerPort)
}

// appendHostPort appends address under addrKey, split into host and port
// where it has a numeric port; whole otherwise (a Unix socket's path).
func appendHostPort(b []byte, address, addrKey, portKey string) []byte {
	host, port, err := net.SplitHostPort(address)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		return appendKV(b, addrKey, slog.StringValue(address))
	}
	b = appendKV(b, addrKey, slog.StringValue(host))
	return appendKV(b, portKey, slog.Int64Value(int64(n)))
}

// appendKV appends an attribute of a log record, with v as its value.
func appendKV(b []byte, key string, v slog.Value) []byte {
	return appendKeyValue(b, logAttributes, key, v)
}

// appendKeyValue appends KeyValue field num.
func appendKeyValue(b []byte, num protowire.Number, key string, v slog.Value) []byte {
	b, start := begin(b, num)
	b = appendString(b, kvKey, key)
	b = appendAnyValue(b, kvValue, v)
	return end(b, start)
}

// appendStr appends AnyValue field num holding s.
func appendStr(b []byte, num protowire.Number, s string) []byte {
	b, start := begin(b, num)
	b = protowire.AppendString(protowire.AppendTag(b, anyString, protowire.BytesType), validUTF8(s)) // "" too: a value set
	return end(b, start)
}

// appendAnyValue appends AnyValue field num holding a decoded
// attribute's value; a record decoded from JSON holds strings, numbers,
// booleans, nulls and lists.
func appendAnyValue(b []byte, num protowire.Number, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendStr(b, num, v.String())
	case slog.KindUint64:
		if u := v.Uint64(); u > 1<<63-1 {
			return appendStr(b, num, v.String())
		}
	case slog.KindAny:
		if x, ok := v.Any().(slog.Value); ok {
			return appendAnyValue(b, num, x)
		}
	}
	b, start := begin(b, num)
	switch v.Kind() {
	case slog.KindInt64:
		b = protowire.AppendVarint(protowire.AppendTag(b, anyInt, protowire.VarintType), uint64(v.Int64()))
	case slog.KindUint64:
		b = protowire.AppendVarint(protowire.AppendTag(b, anyInt, protowire.VarintType), v.Uint64())
	case slog.KindFloat64:
		b = protowire.AppendFixed64(protowire.AppendTag(b, anyDouble, protowire.Fixed64Type), math.Float64bits(v.Float64()))
	case slog.KindBool:
		b = protowire.AppendVarint(protowire.AppendTag(b, anyBool, protowire.VarintType), protowire.EncodeBool(v.Bool()))
	case slog.KindGroup: // inside a list: a kvlist, as dotted keys cannot say it
		b = appendKvlist(b, v.Group())
	default:
		b = appendAny(b, v)
	}
	return end(b, start)
}

// appendAny appends the field of an AnyValue that holds v of KindAny (or
// a kind not written otherwise, as a string); none for JSON's null.
func appendAny(b []byte, v slog.Value) []byte {
	switch x := v.Any().(type) {
	case nil:
		return b // a value with none set
	case []any:
		return appendArray(b, x)
	case []byte:
		return protowire.AppendBytes(protowire.AppendTag(b, anyBytes, protowire.BytesType), x)
	}
	return protowire.AppendString(protowire.AppendTag(b, anyString, protowire.BytesType), validUTF8(v.String()))
}

func appendArray(b []byte, xs []any) []byte {
	b, start := begin(b, anyArray)
	for _, x := range xs {
		b = appendAnyValue(b, listValues, slog.AnyValue(x))
	}
	return end(b, start)
}

func appendKvlist(b []byte, as []slog.Attr) []byte {
	b, start := begin(b, anyKvlist)
	for _, a := range as {
		b = appendKeyValue(b, listValues, a.Key, a.Value.Resolve())
	}
	return end(b, start)
}
