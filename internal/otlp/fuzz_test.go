package otlp

import (
	"testing"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzRequest: whatever bytes a frame holds, Request maps it to one log
// record (undecodable ones keep their text as the body), and the request
// encodes: protobuf strings must be UTF-8, and a request that would not
// encode could never be delivered.
func FuzzRequest(f *testing.F) {
	f.Add([]byte(pythonRecord))
	f.Add([]byte(`{"name":"a","msg":"\ud800","levelno":-3,"g":{"h":[1,{"x":null}]},"peer":"[::1]:x"}`))
	f.Add([]byte("\xff\xfe not json"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		b := frame(string(payload))
		req := Request(b, []int{len(b)}, "", 1)
		wire, err := proto.Marshal(req)
		if err != nil {
			t.Fatalf("the request does not encode: %v", err)
		}
		var back logspb.LogsData
		if err := proto.Unmarshal(wire, &back); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, rl := range back.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				n += len(sl.LogRecords)
			}
		}
		if n != 1 {
			t.Fatalf("%d log records from one frame", n)
		}
	})
}
