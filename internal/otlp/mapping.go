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

// builder makes a request's messages. It allocates the ones every record
// has (the LogRecord, its key-values and their scalar values, the
// attribute list) in chunks sized to the request, not one by one:
// otherwise allocating them is a good part of the mapping's cost. A
// builder serves one request; its messages live as long as they are
// referenced.
type builder struct {
	chunk   int // values of a kind allocated at once
	recs    []logspb.LogRecord
	kvs     []commonpb.KeyValue
	vals    []commonpb.AnyValue
	strs    []commonpb.AnyValue_StringValue
	ints    []commonpb.AnyValue_IntValue
	floats  []commonpb.AnyValue_DoubleValue
	bools   []commonpb.AnyValue_BoolValue
	lists   []*commonpb.KeyValue // attribute lists are carved from it
	scratch []*commonpb.KeyValue // a record's attributes being gathered
}

// newBuilder returns a builder for a request of n records: chunks of n
// values (one LogRecord each; a dozen key-values take a dozen chunks),
// between 8 and 512.
func newBuilder(n int) *builder { return &builder{chunk: min(max(n, 8), 512)} }

// next returns a new zero T from the chunk in *s, starting another chunk
// of size values when it is full (the messages in the old one stay where
// they are).
func next[T any](s *[]T, size int) *T {
	if len(*s) == cap(*s) {
		*s = make([]T, 0, size)
	}
	*s = (*s)[:len(*s)+1]
	return &(*s)[len(*s)-1]
}

// list returns a copy of kvs carved from the builder's lists.
func (b *builder) list(kvs []*commonpb.KeyValue) []*commonpb.KeyValue {
	if cap(b.lists)-len(b.lists) < len(kvs) {
		b.lists = make([]*commonpb.KeyValue, 0, max(8*b.chunk, len(kvs)))
	}
	start := len(b.lists)
	b.lists = append(b.lists, kvs...)
	return b.lists[start:len(b.lists):len(b.lists)]
}

// LogRecord maps one decoded record to an OTLP LogRecord observed at
// observed (Unix ns).
func LogRecord(e *record.Entry, observed uint64) *logspb.LogRecord {
	return newBuilder(1).logRecord(e, observed)
}

// logRecord is LogRecord. The record's attributes come first, groups
// flattened into dotted keys (a group "http" with "status" is
// "http.status"), then its standard fields.
func (b *builder) logRecord(e *record.Entry, observed uint64) *logspb.LogRecord {
	lr := next(&b.recs, b.chunk)
	lr.ObservedTimeUnixNano = observed
	lr.SeverityNumber = Severity(e.LevelNo)
	lr.SeverityText = e.LevelName
	lr.Body = b.str(e.Msg)
	if !e.Created.IsZero() {
		lr.TimeUnixNano = uint64(e.Created.UnixNano())
	}
	kvs := b.scratch[:0]
	for _, a := range e.Attrs {
		kvs = b.appendAttr(kvs, "", a)
	}
	b.scratch = b.appendFields(kvs, e)
	lr.Attributes = b.list(b.scratch)
	return lr
}

// undecodable is the LogRecord of a frame that is not a record (never one
// netlog's encoder made): the frame's text as its body, so that nothing is
// lost, and the decoder's error.
func (b *builder) undecodable(frame []byte, err error, observed uint64) *logspb.LogRecord {
	return &logspb.LogRecord{
		ObservedTimeUnixNano: observed,
		Body:                 b.str(strings.ToValidUTF8(string(frame), "\uFFFD")),
		Attributes:           []*commonpb.KeyValue{b.kv(keyDecodeErr, b.str(err.Error()))},
	}
}

// appendFields adds the standard fields that are known.
func (b *builder) appendFields(kvs []*commonpb.KeyValue, e *record.Entry) []*commonpb.KeyValue {
	if e.Pathname != "" && e.Pathname != unknownFile {
		kvs = append(kvs, b.kv(keyFilepath, b.str(e.Pathname)))
	}
	if e.Lineno > 0 {
		kvs = append(kvs, b.kv(keyLineno, b.integer(int64(e.Lineno))))
	}
	if e.FuncName != "" && e.FuncName != unknownFunc {
		kvs = append(kvs, b.kv(keyFunction, b.str(e.FuncName)))
	}
	if e.Thread != 0 {
		kvs = append(kvs, b.kv(keyThreadID, b.integer(e.Thread)))
	}
	if e.ThreadName != "" {
		kvs = append(kvs, b.kv(keyThreadName, b.str(e.ThreadName)))
	}
	if e.Process != 0 {
		kvs = append(kvs, b.kv(keyPID, b.integer(int64(e.Process))))
	}
	for _, f := range [...]struct{ k, v string }{
		{record.FieldProcessName, e.ProcessName}, {record.FieldTaskName, e.TaskName}, {keyStack, e.StackInfo},
	} {
		if f.v != "" {
			kvs = append(kvs, b.kv(f.k, b.str(f.v)))
		}
	}
	if e.ExcText != "" {
		kvs = b.appendException(kvs, e.ExcText)
	}
	return kvs
}

// appendException adds a formatted exception as exception.stacktrace, and
// its type and message when its last line is Python's "Type: message".
func (b *builder) appendException(kvs []*commonpb.KeyValue, text string) []*commonpb.KeyValue {
	last := strings.TrimRight(text, "\n")
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	typ, msg, ok := strings.Cut(last, ": ")
	if !ok {
		typ, msg = last, ""
	}
	if typ != "" && !strings.ContainsAny(typ, " \t") {
		kvs = append(kvs, b.kv(keyExcType, b.str(typ)))
		if msg != "" {
			kvs = append(kvs, b.kv(keyExcMessage, b.str(msg)))
		}
	}
	return append(kvs, b.kv(keyExcStack, b.str(text)))
}

// appendAttr adds a, under prefix: a group's members each with a dotted
// key, the relay's peer and listener under the semantic conventions' names.
func (b *builder) appendAttr(kvs []*commonpb.KeyValue, prefix string, a slog.Attr) []*commonpb.KeyValue {
	v := a.Value.Resolve()
	key := a.Key
	if prefix != "" && key != "" {
		key = prefix + "." + key
	} else if key == "" {
		key = prefix
	}
	if v.Kind() == slog.KindGroup {
		for _, m := range v.Group() {
			kvs = b.appendAttr(kvs, key, m)
		}
		return kvs
	}
	if prefix == "" && v.Kind() == slog.KindString {
		switch key {
		case attrPeer:
			return b.appendPeer(kvs, v.String())
		case attrListener:
			return b.appendListener(kvs, v.String())
		}
	}
	return append(kvs, b.kv(key, b.anyValue(v)))
}

// appendPeer adds the sender's address as client.address and client.port.
func (b *builder) appendPeer(kvs []*commonpb.KeyValue, peer string) []*commonpb.KeyValue {
	return b.appendHostPort(kvs, peer, keyClientAddr, keyClientPort)
}

// appendListener adds the listener a relayed record came in on ("tcp
// 127.0.0.1:9020") as network.transport, server.address and server.port.
func (b *builder) appendListener(kvs []*commonpb.KeyValue, listener string) []*commonpb.KeyValue {
	if network, addr, ok := strings.Cut(listener, " "); ok {
		kvs = append(kvs, b.kv(keyNetwork, b.str(network)))
		listener = addr
	}
	return b.appendHostPort(kvs, listener, keyServerAddr, keyServerPort)
}

// appendHostPort adds address under addrKey, split into host and port
// where it has a numeric port; whole otherwise (a Unix socket's path).
func (b *builder) appendHostPort(kvs []*commonpb.KeyValue, address, addrKey, portKey string) []*commonpb.KeyValue {
	host, port, err := net.SplitHostPort(address)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		return append(kvs, b.kv(addrKey, b.str(address)))
	}
	return append(kvs, b.kv(addrKey, b.str(host)), b.kv(portKey, b.integer(int64(n))))
}

// anyValue converts a decoded attribute's value; a record decoded from
// JSON holds strings, numbers, booleans, nulls and lists.
func (b *builder) anyValue(v slog.Value) *commonpb.AnyValue {
	switch v.Kind() {
	case slog.KindString:
		return b.str(v.String())
	case slog.KindInt64:
		return b.integer(v.Int64())
	case slog.KindUint64:
		if u := v.Uint64(); u <= 1<<63-1 {
			return b.integer(int64(u))
		}
		return b.str(v.String())
	case slog.KindFloat64:
		f, av := next(&b.floats, b.chunk), next(&b.vals, b.chunk)
		f.DoubleValue, av.Value = v.Float64(), f
		return av
	case slog.KindBool:
		t, av := next(&b.bools, b.chunk), next(&b.vals, b.chunk)
		t.BoolValue, av.Value = v.Bool(), t
		return av
	case slog.KindGroup: // inside a list: a kvlist, as dotted keys cannot say it
		return b.kvlist(v.Group())
	}
	switch x := v.Any().(type) {
	case nil:
		return &commonpb.AnyValue{} // JSON's null: a value with none set
	case []any:
		return b.array(x)
	case []byte:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: x}}
	case slog.Value:
		return b.anyValue(x)
	}
	return b.str(v.String())
}

func (b *builder) array(xs []any) *commonpb.AnyValue {
	vs := make([]*commonpb.AnyValue, len(xs))
	for i, x := range xs {
		vs[i] = b.anyValue(slog.AnyValue(x))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
}

func (b *builder) kvlist(as []slog.Attr) *commonpb.AnyValue {
	kvs := make([]*commonpb.KeyValue, len(as))
	for i, a := range as {
		kvs[i] = b.kv(a.Key, b.anyValue(a.Value.Resolve()))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvs}}}
}

func (b *builder) kv(k string, v *commonpb.AnyValue) *commonpb.KeyValue {
	kv := next(&b.kvs, b.chunk)
	kv.Key, kv.Value = k, v
	return kv
}

// str makes a string value; protobuf strings are UTF-8, and a decoded
// record's strings are (its decoders replace invalid bytes).
func (b *builder) str(s string) *commonpb.AnyValue {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	sv, v := next(&b.strs, b.chunk), next(&b.vals, b.chunk)
	sv.StringValue, v.Value = s, sv
	return v
}

func (b *builder) integer(i int64) *commonpb.AnyValue {
	iv, v := next(&b.ints, b.chunk), next(&b.vals, b.chunk)
	iv.IntValue, v.Value = i, iv
	return v
}

// resource is the resource of the records of one service.
func (b *builder) resource(service string) *resourcepb.Resource {
	return &resourcepb.Resource{Attributes: []*commonpb.KeyValue{b.kv("service.name", b.str(service))}}
}
