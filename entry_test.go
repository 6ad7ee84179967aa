package netlog

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/forward"
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
