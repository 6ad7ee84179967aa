package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"net"
	"time"

	"github.com/RackSec/srslog"
	slogsyslog "github.com/samber/slog-syslog/v2"

	"github.com/netlog-go/netlog"
)

func contenders() []contender {
	return []contender{
		{"bare writer, batched (the limit)", "tcp", lengthPrefix, bare(256 << 10)},
		{"bare writer, one write per record", "tcp", lengthPrefix, bare(0)},
		{"netlog socket TCP pickle, async", "tcp", lengthPrefix, netlogSocket(true)},
		{"netlog socket TCP pickle, sync", "tcp", lengthPrefix, netlogSocket(false)},
		{"netlog syslog TCP RFC 5424, async", "tcp", octetCount, netlogSyslog("tcp", true)},
		{"netlog syslog TCP RFC 5424, sync", "tcp", octetCount, netlogSyslog("tcp", false)},
		{"netlog syslog UDP RFC 5424, async", "udp", 0, netlogSyslog("udp", true)},
		{"netlog syslog UDP RFC 5424, sync", "udp", 0, netlogSyslog("udp", false)},
		{"log/syslog TCP", "tcp", lf, stdSyslog("tcp")},
		{"log/syslog UDP", "udp", 0, stdSyslog("udp")},
		{"srslog TCP RFC 5424", "tcp", octetCount, srs},
		{"samber/slog-syslog TCP", "tcp", cee, samber},
		{"Python SocketHandler TCP", "tcp", lengthPrefix, python("socket")},
		{"Python SysLogHandler TCP", "tcp", nul, python("syslog-tcp")},
		{"Python SysLogHandler UDP", "udp", 0, python("syslog-udp")},
	}
}

// closeWithin closes a netlog handler, delivering what is pending.
func closeWithin(h netlog.Handler) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return h.Close(ctx)
}

func async(on bool) *netlog.Async {
	if !on {
		return nil
	}
	return &netlog.Async{MaxRecords: 1 << 20, MaxBytes: 256 << 20}
}

func netlogSocket(a bool) func(string, int) error {
	return func(addr string, n int) error {
		h, err := netlog.NewSocketHandler("tcp", addr, &netlog.Options{Async: async(a)})
		if err != nil {
			return err
		}
		return logN(h, n)
	}
}

func netlogSyslog(network string, a bool) func(string, int) error {
	return func(addr string, n int) error {
		h, err := netlog.NewSyslogHandler(network, addr, &netlog.SyslogOptions{Options: netlog.Options{Async: async(a)}})
		if err != nil {
			return err
		}
		return logN(h, n)
	}
}

// logN handles n records with h and closes it.
func logN(h netlog.Handler, n int) error {
	if err := handleN(h, n); err != nil {
		return err
	}
	return closeWithin(h)
}

// stdSyslog is Go's log/syslog under slog, as a Go program uses it: a
// TextHandler writing each record to a syslog.Writer.
func stdSyslog(network string) func(string, int) error {
	return func(addr string, n int) error {
		w, err := syslog.Dial(network, addr, syslog.LOG_INFO|syslog.LOG_USER, "bench")
		if err != nil {
			return err
		}
		defer w.Close()
		return textN(w, n)
	}
}

func textN(w io.Writer, n int) error {
	return handleN(slog.NewTextHandler(w, nil), n)
}

// srs is github.com/RackSec/srslog with RFC 5424 and octet counting.
func srs(addr string, n int) error {
	w, err := srslog.Dial("tcp", addr, srslog.LOG_INFO|srslog.LOG_USER, "bench")
	if err != nil {
		return err
	}
	defer w.Close()
	w.SetFormatter(srslog.RFC5424Formatter)
	w.SetFramer(srslog.RFC5425MessageLengthFramer)
	return textN(w, n)
}

// samber is github.com/samber/slog-syslog/v2 over a TCP connection. It
// writes each record from a goroutine of its own and never says when it
// is done: its sending time ends when Handle returns for the last record,
// and its connection stays open (its goroutines may still be writing)
// until the receiver closes it.
func samber(addr string, n int) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	return handleN(slogsyslog.Option{Level: slog.LevelInfo, Writer: conn}.NewSyslogHandler(), n)
}

// bare writes the bytes netlog's socket handler sends for the record,
// one write per record (batch 0) or batch bytes of whole frames at a time.
func bare(batch int) func(string, int) error {
	return func(addr string, n int) error {
		frame, err := captureFrame()
		if err != nil {
			return err
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		if batch == 0 {
			for range n {
				if _, err := conn.Write(frame); err != nil {
					return err
				}
			}
			return nil
		}
		per := max(batch/len(frame), 1)
		buf := bytes.Repeat(frame, per)
		for sent := 0; sent < n; sent += per {
			if _, err := conn.Write(buf[:min(per, n-sent)*len(frame)]); err != nil {
				return err
			}
		}
		return nil
	}
}

// captureFrame is one frame of the record, as netlog's socket handler
// writes it.
func captureFrame() ([]byte, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	h, err := netlog.NewSocketHandler("tcp", ln.Addr().String(), nil)
	if err != nil {
		return nil, err
	}
	h.Handle(context.Background(), theRecord)
	h.Close(context.Background())
	c, err := ln.Accept()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	frame, err := io.ReadAll(c)
	if err != nil || len(frame) < 5 {
		return nil, fmt.Errorf("capturing a frame: %v (%d bytes)", err, len(frame))
	}
	return frame, nil
}
