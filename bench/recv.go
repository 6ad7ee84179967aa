package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// framing is how the counting receiver finds records in a stream.
type framing int

const (
	lengthPrefix framing = iota // 4-byte big-endian length, then payload
	octetCount                  // "LEN SP MSG"
	lf                          // MSG LF
	nul                         // MSG NUL
	cee                         // "@cee: {json}", back to back (samber/slog-syslog)
)

// receiver counts the records that arrive on one loopback listener and
// notes when the last one came.
type receiver struct {
	addr  string
	count atomic.Int64
	last  atomic.Int64 // UnixNano of the latest record
	close func()
	wg    sync.WaitGroup
}

// listenStream accepts connections and counts their records.
func listenStream(f framing) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{addr: ln.Addr().String()}
	var mu sync.Mutex
	var conns []net.Conn
	r.close = func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		r.wg.Wait()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			r.wg.Add(1)
			go func() { defer r.wg.Done(); r.serve(c, f) }()
		}
	}()
	return r, nil
}

// listenPacket counts datagrams.
func listenPacket() (*receiver, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	pc.(*net.UDPConn).SetReadBuffer(8 << 20)
	r := &receiver{addr: pc.LocalAddr().String(), close: func() { pc.Close() }}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			r.add(1)
		}
	}()
	return r, nil
}

func (r *receiver) add(n int) {
	if n > 0 {
		r.count.Add(int64(n))
		r.last.Store(time.Now().UnixNano())
	}
}

func (r *receiver) serve(c net.Conn, f framing) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 256<<10)
	var err error
	switch f {
	case lengthPrefix:
		var hdr [4]byte
		for err == nil {
			if _, err = io.ReadFull(br, hdr[:]); err == nil {
				_, err = br.Discard(int(binary.BigEndian.Uint32(hdr[:])))
				r.add(1)
			}
		}
	case octetCount:
		for err == nil {
			var digits []byte
			if digits, err = br.ReadSlice(' '); err == nil {
				n, perr := strconv.Atoi(string(digits[:len(digits)-1]))
				if perr != nil {
					return
				}
				_, err = br.Discard(n)
				r.add(1)
			}
		}
	default:
		sep := map[framing][]byte{lf: {'\n'}, nul: {0}, cee: []byte("@cee:")}[f]
		buf := make([]byte, 256<<10)
		carry := 0 // bytes kept from the last read: a separator may straddle reads
		for {
			n, err := br.Read(buf[carry:])
			if n > 0 {
				chunk := buf[:carry+n]
				r.add(bytes.Count(chunk, sep))
				carry = min(len(sep)-1, len(chunk)) // too short to hold a whole separator again
				copy(buf, chunk[len(chunk)-carry:])
			}
			if err != nil {
				return
			}
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		return
	}
}

// wait returns once want records have arrived, or once none has for
// idle (UDP drops records; a stream that failed may never finish).
func (r *receiver) wait(want int64, idle time.Duration) {
	start := time.Now()
	for r.count.Load() < want {
		last := time.Unix(0, r.last.Load())
		if r.last.Load() == 0 {
			last = start
		}
		if time.Since(last) > idle {
			return
		}
		time.Sleep(time.Millisecond) // a benchmark's polling, off the measured path
	}
}
