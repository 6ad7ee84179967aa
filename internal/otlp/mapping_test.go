package otlp

import (
	"encoding/binary"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/netlog-go/netlog/record"
)

func TestSeverity(t *testing.T) {
	for levelno, want := range map[int]logspb.SeverityNumber{
		-5: 1, 0: 1, 5: 3, 9: 4,
		10: logspb.SeverityNumber_SEVERITY_NUMBER_DEBUG, 11: 6, 13: 8, 19: 8,
		20: logspb.SeverityNumber_SEVERITY_NUMBER_INFO, 25: logspb.SeverityNumber_SEVERITY_NUMBER_INFO4,
		30: logspb.SeverityNumber_SEVERITY_NUMBER_WARN, 35: 16,
		40: logspb.SeverityNumber_SEVERITY_NUMBER_ERROR, 42: 19,
		50: logspb.SeverityNumber_SEVERITY_NUMBER_FATAL, 51: 22, 60: 24, 1000: 24,
	} {
		if got := logspb.SeverityNumber(Severity(levelno)); got != want {
			t.Errorf("Severity(%d) = %d, want %d", levelno, got, want)
		}
	}
}

// frame is a JSON record as plug.Handler frames it.
func frame(json string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(json)))
	return append(b, json...)
}

// pythonRecord is a Python LogRecord relayed by netlog serve, as JSON.
const pythonRecord = `{"name":"app.db","msg":"query failed","levelname":"ERROR","levelno":40,` +
	`"pathname":"/srv/app/db.py","filename":"db.py","module":"db","lineno":17,"funcName":"run",` +
	`"created":1700000000.25,"msecs":250.0,"relativeCreated":12.5,"thread":140001,"threadName":"MainThread",` +
	`"process":4242,"processName":"MainProcess","taskName":null,` +
	`"exc_text":"Traceback (most recent call last):\n  File \"db.py\", line 17, in run\nValueError: bad row\n",` +
	`"stack_info":null,"user":"ana","n":3,"tags":["a",1],"http":{"status":500,"ok":false},"nothing":null,` +
	`"peer":"192.0.2.7:50122","listener":"tcp 127.0.0.1:9020"}`

func attrMap(kvs []*commonpb.KeyValue) map[string]*commonpb.AnyValue {
	m := map[string]*commonpb.AnyValue{}
	for _, kv := range kvs {
		if _, dup := m[kv.Key]; dup {
			panic("duplicate attribute " + kv.Key)
		}
		m[kv.Key] = kv.Value
	}
	return m
}

func mustDecode(t *testing.T, json string) *record.Entry {
	t.Helper()
	e, err := record.DecodeJSON([]byte(json))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// logRecord is e's log record as a request carries it, read by the
// protobuf module.
func logRecord(t *testing.T, e *record.Entry, observed uint64) *logspb.LogRecord {
	t.Helper()
	var sl logspb.ScopeLogs // appendLogRecord appends its field log_records
	if err := proto.Unmarshal(appendLogRecord(nil, e, observed), &sl); err != nil || len(sl.LogRecords) != 1 {
		t.Fatalf("%d log records, %v", len(sl.LogRecords), err)
	}
	return sl.LogRecords[0]
}

func TestLogRecord(t *testing.T) {
	e := mustDecode(t, pythonRecord)
	lr := logRecord(t, e, 99)
	if lr.TimeUnixNano != uint64(time.Unix(1700000000, 250e6).UnixNano()) || lr.ObservedTimeUnixNano != 99 ||
		lr.SeverityNumber != logspb.SeverityNumber_SEVERITY_NUMBER_ERROR || lr.SeverityText != "ERROR" ||
		lr.Body.GetStringValue() != "query failed" {
		t.Errorf("record %v", lr)
	}
	a := attrMap(lr.Attributes)
	for k, v := range map[string]string{
		"code.filepath": "/srv/app/db.py", "code.function": "run", "thread.name": "MainThread",
		"processName": "MainProcess", "exception.type": "ValueError", "exception.message": "bad row",
		"exception.stacktrace": e.ExcText, "user": "ana", "client.address": "192.0.2.7",
		"network.transport": "tcp", "server.address": "127.0.0.1",
	} {
		if a[k].GetStringValue() != v {
			t.Errorf("%s = %v, want %q", k, a[k], v)
		}
	}
	for k, v := range map[string]int64{
		"code.lineno": 17, "thread.id": 140001, "process.pid": 4242, "n": 3, "http.status": 500,
		"client.port": 50122, "server.port": 9020,
	} {
		if a[k].GetIntValue() != v {
			t.Errorf("%s = %v, want %d", k, a[k], v)
		}
	}
	if a["http.ok"] == nil || a["http.ok"].GetBoolValue() {
		t.Errorf("http.ok = %v", a["http.ok"])
	}
	if tags := a["tags"].GetArrayValue().GetValues(); len(tags) != 2 || tags[0].GetStringValue() != "a" || tags[1].GetIntValue() != 1 {
		t.Errorf("tags = %v", a["tags"])
	}
	if v, ok := a["nothing"]; !ok || v.Value != nil {
		t.Errorf("nothing = %v, %v", v, ok)
	}
	for _, k := range []string{"peer", "listener", "taskName", "code.stacktrace", "filename", "module", "msecs"} {
		if _, ok := a[k]; ok {
			t.Errorf("attribute %s is there: %v", k, a[k])
		}
	}
}

// TestRequest groups records by service and scope, keeps their order and
// makes a request whose bytes are an ExportLogsServiceRequest's (a
// LogsData has the same field 1).
func TestRequest(t *testing.T) {
	var b []byte
	var ends []int
	for _, j := range []string{
		`{"name":"a","msg":"1","levelno":20}`, `{"name":"b","msg":"2","levelno":20}`,
		`{"name":"a","msg":"3","levelno":20}`, `not json`,
	} {
		b = append(b, frame(j)...)
		ends = append(ends, len(b))
	}
	for _, service := range []string{"", "svc"} {
		wire := Request(b, ends, service, 1)
		var back logspb.LogsData
		if err := proto.Unmarshal(wire, &back); err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, rl := range back.ResourceLogs {
			svc := rl.Resource.Attributes[0].Value.GetStringValue()
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					got[svc+"/"+sl.Scope.Name] = append(got[svc+"/"+sl.Scope.Name], lr.Body.GetStringValue())
				}
			}
		}
		prefix := func(name string) string {
			switch {
			case service != "":
				return service + "/" + name
			case name == "":
				return "unknown_service/"
			}
			return name + "/" + name
		}
		if len(got) != 3 || len(got[prefix("a")]) != 2 || got[prefix("a")][0] != "1" || got[prefix("a")][1] != "3" ||
			got[prefix("b")][0] != "2" || got[prefix("")][0] != "not json" {
			t.Errorf("service %q: %v", service, got)
		}
	}
}
