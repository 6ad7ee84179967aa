package receive

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"testing"

	"github.com/netlog-go/netlog/record"
)

// TestDecoderPanicRefused: a decoder that panics on a frame (a bug) gets
// that frame refused as malformed, with the peer's address, and the
// server goes on serving: the next connection's record arrives.
func TestDecoderPanicRefused(t *testing.T) {
	p := *frames
	p.decode = func(_ *Server, payload []byte) (*record.Entry, error) {
		if bytes.Equal(payload, []byte("boom")) {
			panic("a decoder bug")
		}
		return &record.Entry{Msg: string(payload)}, nil
	}
	got, refused := make(chan string, 1), make(chan Report, 1)
	s := &Server{
		Sink:     SinkFunc(func(e *record.Entry) error { got <- e.Msg; return nil }),
		OnRefuse: func(r Report) { refused <- r },
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.serveStream(ctx, ln, &p) }()
	defer func() { cancel(); <-done }()
	send := func(payload string) net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	bad := send("boom")
	defer bad.Close()
	if r := <-refused; r.Reason != ReasonMalformed || r.Peer != bad.LocalAddr().String() {
		t.Errorf("refused %+v, want malformed from %s", r, bad.LocalAddr())
	}
	good := send("fine")
	defer good.Close()
	if msg := <-got; msg != "fine" {
		t.Errorf("record %q after the panic, want %q", msg, "fine")
	}
}
