package netlog

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/forward"
	"github.com/netlog-go/netlog/internal/pickle"
	"github.com/netlog-go/netlog/internal/syslog"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// TestSyslogHandleEntryKeepsSyslogFields: a syslog message received and
// forwarded as RFC 5424 keeps its header and structured data, gains the
// element saying where it was received, and a relayed one keeps the
// first relay's instead of a second.
func TestSyslogHandleEntryKeepsSyslogFields(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lines := make(chan string, 2)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for s := bufio.NewScanner(c); s.Scan(); {
			lines <- s.Text()
		}
	}()
	h, err := NewSyslogHandler("tcp", ln.Addr().String(), &SyslogOptions{Framing: LF})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	e := &record.Entry{Msg: "disk full", LevelNo: 40, Created: time.Date(2026, 12, 1, 10, 0, 0, 123456000, time.UTC),
		Peer: "192.0.2.7:514", Listener: "syslog+tcp 127.0.0.1:6514",
		Syslog: &record.Syslog{Format: "rfc5424", Facility: 3, Severity: 2, Hostname: "db1", AppName: "pg", ProcID: "77", MsgID: "ID4",
			SD: []record.SDElement{{ID: "meta@1", Params: []record.SDParam{{Name: "k", Value: `a"b]`}}}}}}
	fh := h.(forward.Handler)
	if err := fh.HandleEntry(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	want := `<26>1 2026-12-01T10:00:00.123456Z db1 pg 77 ID4 [meta@1 k="a\"b\]"][netlog@32473 peer="192.0.2.7:514" listener="syslog+tcp 127.0.0.1:6514"] disk full`
	if got := <-lines; got != want {
		t.Errorf("forwarded\n got %s\nwant %s", got, want)
	}
	e.Syslog.SD = append(e.Syslog.SD, record.SDElement{ID: forward.SDID, Params: []record.SDParam{{Name: "peer", Value: "198.51.100.1:9"}}})
	e.Peer = "10.0.0.1:1"
	if err := fh.HandleEntry(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	want = `<26>1 2026-12-01T10:00:00.123456Z db1 pg 77 ID4 [meta@1 k="a\"b\]"][netlog@32473 peer="198.51.100.1:9"] disk full`
	if got := <-lines; got != want {
		t.Errorf("relayed twice\n got %s\nwant %s", got, want)
	}
}

// TestHandleEntryCarriesSyslogFields: a syslog message forwarded as a
// pickle or JSON (to a netlog receiver, Kafka, OTLP) carries its syslog
// header and structured data as fields.
func TestHandleEntryCarriesSyslogFields(t *testing.T) {
	e := &record.Entry{Msg: "disk full", LevelNo: 40, Created: time.Now(),
		Syslog: &record.Syslog{Format: "rfc5424", Facility: 3, Severity: 2, Hostname: "db1", AppName: "pg", ProcID: "77", MsgID: "ID4",
			SD: []record.SDElement{{ID: "meta@1", Params: []record.SDParam{{Name: "k", Value: "v"}}}}}}
	want := "[syslog_format=rfc5424 facility=daemon severity=crit hostname=db1 appname=pg procid=77 msgid=ID4 structured_data=[meta@1=[k=v]]]"
	for _, codec := range []Codec{CodecPickle, CodecJSON} {
		c, err := newCore(&Options{Codec: codec}, "test", nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		payload := c.appendEntry(nil, e)[transport.PrefixLen:]
		decode := pickle.Decode
		if codec == CodecJSON {
			decode = record.DecodeJSON
		}
		back, err := decode(payload)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(back.Attrs); got != want {
			t.Errorf("%s: attributes %s, want %s", codec, got, want)
		}
	}
}

// FuzzHandleEntry: any record the receiver decodes from JSON, forwarded
// as a pickle or JSON, decodes again with the same standard fields and
// peer; forwarded as RFC 5424, it parses as RFC 5424 with its syslog
// fields.
func FuzzHandleEntry(f *testing.F) {
	f.Add([]byte(`{"name":"app","msg":"m","levelno":20,"levelname":"INFO","created":1764583200.5,"pathname":"/a.py","lineno":3,"funcName":"f","thread":7,"process":9,"g":{"k":[1,2.5,null]}}`))
	f.Add([]byte(`{"msg":"x\n y","exc_text":"Traceback\n  boom","user":"ü","peer":"198.51.100.1:7","name":"a b\u0000c"}`))
	f.Add([]byte(`{"name":"` + strings.Repeat("n", 300) + `","msg":"\u00ff]\"\\","levelno":25}`))
	pk, err := newCore(&Options{}, "fuzz", nil, 0)
	if err != nil {
		f.Fatal(err)
	}
	js, err := newCore(&Options{Codec: CodecJSON}, "fuzz", nil, 0)
	if err != nil {
		f.Fatal(err)
	}
	sh, err := newSyslog("udp", "127.0.0.1:9", &SyslogOptions{}) // nothing is sent: only encoded
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := record.DecodeJSON(p)
		if err != nil {
			return
		}
		e.Peer, e.Listener = "192.0.2.1:5", "tcp 127.0.0.1:9020"
		for _, c := range []*core{pk, js} {
			payload := c.appendEntry(nil, e)[transport.PrefixLen:]
			decode := pickle.Decode
			if c == js {
				decode = record.DecodeJSON
			}
			back, err := decode(payload)
			if err != nil {
				t.Fatalf("%s does not decode: %v\n%q", c.format.Enc, err, payload)
			}
			sameFields(t, e, back)
		}
		s := getState()
		defer putState(s)
		frame, _, _ := sh.encodeEntry(s, e)
		m, err := syslog.Parse(frame)
		if err != nil || m.Syslog.Format != "rfc5424" {
			t.Fatalf("RFC 5424 does not parse: %v\n%q", err, frame)
		}
	})
}

// sameFields compares what a forwarded record must keep.
func sameFields(t *testing.T, e, back *record.Entry) {
	t.Helper()
	peer := e.Peer
	for _, a := range e.Attrs {
		if a.Key == "peer" { // relayed before: its peer is kept
			peer = a.Value.String()
		}
	}
	got := []any{back.Name, back.Msg, back.LevelNo, back.LevelName, back.Pathname, back.Lineno, back.FuncName,
		back.Thread, back.Process, back.ExcText, back.StackInfo, back.Created.IsZero()}
	want := []any{e.Name, e.Msg, e.LevelNo, e.LevelName, e.Pathname, e.Lineno, e.FuncName,
		e.Thread, e.Process, e.ExcText, e.StackInfo, e.Created.IsZero()}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("fields changed:\n got %q\nwant %q", got, want)
	}
	if d := back.Created.Sub(e.Created); d > time.Microsecond || d < -time.Microsecond {
		t.Fatalf("created %v, was %v", back.Created, e.Created)
	}
	for _, a := range back.Attrs {
		if a.Key == "peer" && a.Value.String() != peer {
			t.Fatalf("peer %v, want %s", a.Value, peer)
		}
	}
}
