package otlp

import (
	"encoding/binary"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// Request maps the frames[:ends[0]], frames[ends[0]:ends[1]], … to the
// body of one OTLP export request, observed at observed (Unix ns). Each
// record's logger name is its instrumentation scope; its resource's
// service.name is service, or the logger name if service is ""
// ("unknown_service" if that is "" too). Records of one scope keep their
// order.
//
// The request is a LogsData: its one field has the number and type of
// ExportLogsServiceRequest's, so that its encoding is that request's,
// without the gRPC service code that the collector package links in.
func Request(frames []byte, ends []int, service string, observed uint64) *logspb.LogsData {
	req := &logspb.LogsData{}
	b := newBuilder(len(ends))
	var e record.Entry
	start := 0
	for _, end := range ends {
		frame := payload(frames[start:end])
		start = end
		if err := record.DecodeJSONInto(&e, frame); err != nil {
			sl := b.scope(req, service, "")
			sl.LogRecords = append(sl.LogRecords, b.undecodable(frame, err, observed))
			continue
		}
		sl := b.scope(req, service, e.Name)
		sl.LogRecords = append(sl.LogRecords, b.logRecord(&e, observed))
	}
	return req
}

// payload is a frame's JSON: a frame from the root's handler (plug.Handler)
// starts with the length prefix of the socket handlers' framing.
func payload(frame []byte) []byte {
	if len(frame) >= transport.PrefixLen && int(binary.BigEndian.Uint32(frame)) == len(frame)-transport.PrefixLen {
		return frame[transport.PrefixLen:]
	}
	return frame
}

// unknownService is the service.name of records with no logger name, as
// OpenTelemetry's resource semantic conventions name an unknown service.
const unknownService = "unknown_service"

// scope finds or adds the ScopeLogs of logger name under its service.
func (b *builder) scope(req *logspb.LogsData, service, name string) *logspb.ScopeLogs {
	if service == "" {
		service = name
	}
	if service == "" {
		service = unknownService
	}
	var rl *logspb.ResourceLogs
	for _, r := range req.ResourceLogs {
		if r.Resource.Attributes[0].Value.GetStringValue() == service {
			rl = r
			break
		}
	}
	if rl == nil {
		rl = &logspb.ResourceLogs{Resource: b.resource(service)}
		req.ResourceLogs = append(req.ResourceLogs, rl)
	}
	for _, sl := range rl.ScopeLogs {
		if sl.Scope.Name == name {
			return sl
		}
	}
	sl := &logspb.ScopeLogs{Scope: &commonpb.InstrumentationScope{Name: name}}
	rl.ScopeLogs = append(rl.ScopeLogs, sl)
	return sl
}
