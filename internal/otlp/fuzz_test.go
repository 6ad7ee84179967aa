package otlp

import (
	"bytes"
	"strings"
	"testing"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzRequest: whatever bytes a frame holds, Request maps it to one log
// record (undecodable ones keep their text as the body), in a request
// the protobuf module reads (its strings UTF-8, or it refuses them) and
// writes back to the same bytes: Request writes what the module would.
func FuzzRequest(f *testing.F) {
	f.Add([]byte(pythonRecord))
	f.Add([]byte(`{"name":"a","msg":"\ud800","levelno":-3,"g":{"h":[1,{"x":null}]},"peer":"[::1]:x"}`))
	f.Add([]byte("\xff\xfe not json"))
	f.Add([]byte(`{"msg":"` + strings.Repeat("x", 200) + `","u":18446744073709551615,"f":-1.5,"l":[[],{},null,"x"]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		b := frame(string(payload))
		wire := Request(b, []int{len(b)}, "", 1)
		var back logspb.LogsData
		if err := proto.Unmarshal(wire, &back); err != nil {
			t.Fatalf("the protobuf module does not read the request: %v", err)
		}
		again, err := proto.MarshalOptions{Deterministic: true}.Marshal(&back)
		if err != nil || !bytes.Equal(again, wire) {
			t.Fatalf("the protobuf module writes the request back as\n%x (%v)\nnot\n%x", again, err, wire)
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
