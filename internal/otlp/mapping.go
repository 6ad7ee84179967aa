// Package otlp delivers netlog's JSON frames to an OpenTelemetry
// Collector, or any OTLP/HTTP endpoint, as OTLP log records: a
// transport.Sender that the root package's async queue drives like any
// other connection. docs/otlp.md has the mapping.
package otlp

import (
	"log/slog"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/netlog-go/netlog/record"
)

// Severity maps a Python level number to an OTLP SeverityNumber: DEBUG
// (10) to DEBUG (5), INFO (20) to INFO (9), WARNING (30) to WARN (13),
// ERROR (40) to ERROR (17), CRITICAL (50) to FATAL (21). A level between
// two names takes the lower name's range, one step per level number up to
// its fourth value (25, slog's Info+2, is INFO4 = 12; 60 and above
// FATAL4); below 10 is the TRACE range.
func Severity(levelno int) logspb.SeverityNumber {
	if levelno < 10 {
		return logspb.SeverityNumber(1 + min(max(levelno, 0)*4/10, 3))
	}
	band := min(levelno/10, 5)
	step := min(levelno-10*band, 3)
	return logspb.SeverityNumber(1 + 4*band + step)
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

// LogRecord maps one decoded record to an OTLP LogRecord observed at
// observed (Unix ns). The record's attributes come first, groups flattened
// into dotted keys (a group "http" with "status" is "http.status"), then
// its standard fields.
func LogRecord(e *record.Entry, observed uint64) *logspb.LogRecord {
	lr := &logspb.LogRecord{
		ObservedTimeUnixNano: observed,
		SeverityNumber:       Severity(e.LevelNo),
		SeverityText:         e.LevelName,
		Body:                 str(e.Msg),
	}
	if !e.Created.IsZero() {
		lr.TimeUnixNano = uint64(e.Created.UnixNano())
	}
	kvs := make([]*commonpb.KeyValue, 0, len(e.Attrs)+8)
	for _, a := range e.Attrs {
		kvs = appendAttr(kvs, "", a)
	}
	lr.Attributes = appendFields(kvs, e)
	return lr
}

// Undecodable is the LogRecord of a frame that is not a record (never one
// netlog's encoder made): the frame's text as its body, so that nothing is
// lost, and the decoder's error.
func Undecodable(frame []byte, err error, observed uint64) *logspb.LogRecord {
	return &logspb.LogRecord{
		ObservedTimeUnixNano: observed,
		Body:                 str(strings.ToValidUTF8(string(frame), "\uFFFD")),
		Attributes:           []*commonpb.KeyValue{kv(keyDecodeErr, str(err.Error()))},
	}
}

// appendFields adds the standard fields that are known.
func appendFields(kvs []*commonpb.KeyValue, e *record.Entry) []*commonpb.KeyValue {
	if e.Pathname != "" && e.Pathname != unknownFile {
		kvs = append(kvs, kv(keyFilepath, str(e.Pathname)))
	}
	if e.Lineno > 0 {
		kvs = append(kvs, kv(keyLineno, integer(int64(e.Lineno))))
	}
	if e.FuncName != "" && e.FuncName != unknownFunc {
		kvs = append(kvs, kv(keyFunction, str(e.FuncName)))
	}
	if e.Thread != 0 {
		kvs = append(kvs, kv(keyThreadID, integer(e.Thread)))
	}
	if e.ThreadName != "" {
		kvs = append(kvs, kv(keyThreadName, str(e.ThreadName)))
	}
	if e.Process != 0 {
		kvs = append(kvs, kv(keyPID, integer(int64(e.Process))))
	}
	for _, f := range [...]struct{ k, v string }{
		{record.FieldProcessName, e.ProcessName}, {record.FieldTaskName, e.TaskName}, {keyStack, e.StackInfo},
	} {
		if f.v != "" {
			kvs = append(kvs, kv(f.k, str(f.v)))
		}
	}
	if e.ExcText != "" {
		kvs = appendException(kvs, e.ExcText)
	}
	return kvs
}

// appendException adds a formatted exception as exception.stacktrace, and
// its type and message when its last line is Python's "Type: message".
func appendException(kvs []*commonpb.KeyValue, text string) []*commonpb.KeyValue {
	last := strings.TrimRight(text, "\n")
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	typ, msg, ok := strings.Cut(last, ": ")
	if !ok {
		typ, msg = last, ""
	}
	if typ != "" && !strings.ContainsAny(typ, " \t") {
		kvs = append(kvs, kv(keyExcType, str(typ)))
		if msg != "" {
			kvs = append(kvs, kv(keyExcMessage, str(msg)))
		}
	}
	return append(kvs, kv(keyExcStack, str(text)))
}

// appendAttr adds a, under prefix: a group's members each with a dotted
// key, the relay's peer and listener under the semantic conventions' names.
func appendAttr(kvs []*commonpb.KeyValue, prefix string, a slog.Attr) []*commonpb.KeyValue {
	v := a.Value.Resolve()
	key := a.Key
	if prefix != "" && key != "" {
		key = prefix + "." + key
	} else if key == "" {
		key = prefix
	}
	if v.Kind() == slog.KindGroup {
		for _, m := range v.Group() {
			kvs = appendAttr(kvs, key, m)
		}
		return kvs
	}
	if prefix == "" && v.Kind() == slog.KindString {
		switch key {
		case attrPeer:
			return appendPeer(kvs, v.String())
		case attrListener:
			return appendListener(kvs, v.String())
		}
	}
	return append(kvs, kv(key, anyValue(v)))
}

// appendPeer adds the sender's address as client.address and client.port.
func appendPeer(kvs []*commonpb.KeyValue, peer string) []*commonpb.KeyValue {
	return appendHostPort(kvs, peer, keyClientAddr, keyClientPort)
}

// appendListener adds the listener a relayed record came in on ("tcp
// 127.0.0.1:9020") as network.transport, server.address and server.port.
func appendListener(kvs []*commonpb.KeyValue, listener string) []*commonpb.KeyValue {
	if network, addr, ok := strings.Cut(listener, " "); ok {
		kvs = append(kvs, kv(keyNetwork, str(network)))
		listener = addr
	}
	return appendHostPort(kvs, listener, keyServerAddr, keyServerPort)
}

// appendHostPort adds address under addrKey, split into host and port
// where it has a numeric port; whole otherwise (a Unix socket's path).
func appendHostPort(kvs []*commonpb.KeyValue, address, addrKey, portKey string) []*commonpb.KeyValue {
	host, port, err := net.SplitHostPort(address)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		return append(kvs, kv(addrKey, str(address)))
	}
	return append(kvs, kv(addrKey, str(host)), kv(portKey, integer(int64(n))))
}

// anyValue converts a decoded attribute's value; a record decoded from
// JSON holds strings, numbers, booleans, nulls and lists.
func anyValue(v slog.Value) *commonpb.AnyValue {
	switch v.Kind() {
	case slog.KindString:
		return str(v.String())
	case slog.KindInt64:
		return integer(v.Int64())
	case slog.KindUint64:
		if u := v.Uint64(); u <= 1<<63-1 {
			return integer(int64(u))
		}
		return str(v.String())
	case slog.KindFloat64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v.Float64()}}
	case slog.KindBool:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v.Bool()}}
	case slog.KindGroup: // inside a list: a kvlist, as dotted keys cannot say it
		return kvlist(v.Group())
	}
	switch x := v.Any().(type) {
	case nil:
		return &commonpb.AnyValue{} // JSON's null: a value with none set
	case []any:
		return array(x)
	case []byte:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: x}}
	case slog.Value:
		return anyValue(x)
	}
	return str(v.String())
}

func array(xs []any) *commonpb.AnyValue {
	vs := make([]*commonpb.AnyValue, len(xs))
	for i, x := range xs {
		vs[i] = anyValue(slog.AnyValue(x))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
}

func kvlist(as []slog.Attr) *commonpb.AnyValue {
	kvs := make([]*commonpb.KeyValue, len(as))
	for i, a := range as {
		kvs[i] = kv(a.Key, anyValue(a.Value.Resolve()))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvs}}}
}

func kv(k string, v *commonpb.AnyValue) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: v}
}

// str makes a string value; protobuf strings are UTF-8, and a decoded
// record's strings are (its decoders replace invalid bytes).
func str(s string) *commonpb.AnyValue {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

func integer(i int64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: i}}
}

// Resource is the resource of the records of one service.
func Resource(service string) *resourcepb.Resource {
	return &resourcepb.Resource{Attributes: []*commonpb.KeyValue{kv("service.name", str(service))}}
}
