package netlog

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/netlog-go/netlog/internal/dedup"
	"github.com/netlog-go/netlog/internal/testrecv"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// TestSequenceRoundTrip: the numbers and the instance id a handler with
// Sequence writes are read back by the receiver from pickle and JSON
// fields and from RFC 5424 structured data, counting from 1, shared by a
// derived handler, and one id per handler.
func TestSequenceRoundTrip(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(addr string) (Handler, error){
		"pickle": func(addr string) (Handler, error) { return Open("tcp://"+addr+"?seq=true", nil) },
		"json":   func(addr string) (Handler, error) { return Open("tcp://"+addr+"?seq=true&codec=json", nil) },
		"rfc5424": func(addr string) (Handler, error) {
			return Open("syslog+tcp://"+addr+"?seq=true", nil)
		},
	}
	ids := map[string]string{}
	for name, openAt := range open {
		t.Run(name, func(t *testing.T) {
			var r *testrecv.Receiver
			if name == "rfc5424" {
				r = testrecv.StartSyslog(t, "tcp")
			} else {
				r = testrecv.Start(t, "tcp")
			}
			h, err := openAt(r.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(ctx)
			log := slog.New(h)
			log.Info("one", "k", 1)
			log.With("a", "b").Info("two") // a derived handler shares the numbers
			log.Info("three")
			var id string
			for want := uint64(1); want <= 3; want++ {
				e := r.Next(t)
				gotID, seq, ok := dedup.Key(e)
				if !ok || seq != want {
					t.Fatalf("record %d (%q): key %q %d %v, want seq %d; attrs %v, syslog %+v", want, e.Msg, gotID, seq, ok, want, e.Attrs, e.Syslog)
				}
				if id == "" {
					id = gotID
				}
				if gotID != id || len(id) != 16 {
					t.Fatalf("record %d: id %q, want the handler's one 16-digit id %q", want, gotID, id)
				}
			}
			ids[name] = id
		})
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("two handlers share an id: %v", ids)
		}
		seen[id] = true
	}
}

// TestSequenceRelayed: a relayed RFC 5424 record keeps its sender's
// numbers, and the relay's peer and listener join them in the one element
// netlog@32473.
func TestSequenceRelayed(t *testing.T) {
	r := testrecv.StartSyslog(t, "tcp")
	h, err := NewSyslogHandler("tcp", r.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	e := &record.Entry{Msg: "m", Peer: "192.0.2.7:5", Listener: "relp 127.0.0.1:2514", Syslog: &record.Syslog{
		Format: "rfc5424", Facility: 1, Severity: 6, AppName: "app",
		SD: []record.SDElement{{ID: "netlog@32473", Params: []record.SDParam{{Name: "id", Value: "00000000000000ff"}, {Name: "seq", Value: "7"}}}}}}
	if err := h.(*syslogHandler).HandleEntry(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := r.Next(t)
	if len(got.Syslog.SD) != 1 {
		t.Fatalf("structured data %+v: want the one element netlog@32473", got.Syslog.SD)
	}
	m := map[string]string{}
	for _, p := range got.Syslog.SD[0].Params {
		m[p.Name] = p.Value
	}
	if m["seq"] != "7" || m["id"] != "00000000000000ff" || m["peer"] != e.Peer || m["listener"] != e.Listener {
		t.Fatalf("params %v: want seq, id, peer and listener", m)
	}
}

func TestSequenceNeedsRFC5424(t *testing.T) {
	_, err := NewSyslogHandler("udp", "127.0.0.1:514", &SyslogOptions{Format: RFC3164, Options: Options{Sequence: true}})
	if err == nil {
		t.Fatal("Sequence with RFC 3164: no error")
	}
	t.Log(err)
}

// BenchmarkSequence measures what Options.Sequence costs: each encoder
// alone and Handle to a discarding connection, without and with it, and
// Handle from all cores at once, where the shared counter is contended.
func BenchmarkSequence(b *testing.B) {
	for _, seq := range []bool{false, true} {
		name := "seq=" + map[bool]string{false: "off", true: "on"}[seq]
		for _, codec := range []Codec{CodecPickle, CodecJSON} {
			h, err := newHandler("tcp", "127.0.0.1:9", &Options{Codec: codec, Sequence: seq}, true)
			if err != nil {
				b.Fatal(err)
			}
			h.c.link, err = transport.NewLink(transport.Config{
				Dial:   func(context.Context) (net.Conn, error) { return newDiscardConn(), nil },
				Stream: true,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close(context.Background())
			r := benchRecord()
			b.Run(string(codec)+"/encode/"+name, func(b *testing.B) {
				s := &state{}
				b.ReportAllocs()
				for b.Loop() {
					s.buf = h.encode(s, r)
				}
				b.ReportMetric(float64(len(s.buf)), "bytes/record")
			})
			b.Run(string(codec)+"/Handle/"+name, func(b *testing.B) { benchHandle(b, h) })
			b.Run(string(codec)+"/Handle-parallel/"+name, func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := h.Handle(context.Background(), r); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
		h, err := newSyslog("tcp", "127.0.0.1:9", &SyslogOptions{Options: Options{Sequence: seq}})
		if err != nil {
			b.Fatal(err)
		}
		r := benchRecord()
		b.Run("rfc5424/encode/"+name, func(b *testing.B) {
			s := &state{}
			b.ReportAllocs()
			for b.Loop() {
				_, s.buf, s.scratch = h.encode(s, r)
			}
			b.ReportMetric(float64(len(s.buf)), "bytes/record")
		})
	}
}

// TestSequenceURL: seq= turns Sequence on and off where it applies, and
// is refused with the format or scheme that has no place for it.
func TestSequenceURL(t *testing.T) {
	for url, on := range map[string]bool{
		"tcp://127.0.0.1:9?seq=true":               true,
		"udp://127.0.0.1:9?seq=1&codec=json":       true,
		"syslog+relp://127.0.0.1:9?seq=true":       true,
		"syslog+udp://127.0.0.1:9?seq=false":       false,
		"syslog+tcp://127.0.0.1:9?format=rfc3164":  false,
		"unix:///tmp/x.sock?seq=true&codec=pickle": true,
	} {
		h, err := Open(url, &Options{Sequence: strings.Contains(url, "rfc3164")}) // the defaults' Sequence is dropped where it does not fit
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		var c *core
		switch h := h.(type) {
		case *socketHandler:
			c = h.c
		case *syslogHandler:
			c = h.c
		}
		if got := c.seqID != ""; got != on {
			t.Errorf("%s: numbering %v, want %v", url, got, on)
		}
		h.Close(context.Background())
	}
	for _, url := range []string{"syslog+tcp://127.0.0.1:9?format=rfc3164&seq=true", "stderr:?seq=true", "tcp://127.0.0.1:9?seq=maybe"} {
		if _, err := Open(url, nil); err == nil {
			t.Errorf("%s: no error", url)
		} else {
			t.Logf("%s: %v", url, err)
		}
	}
}
