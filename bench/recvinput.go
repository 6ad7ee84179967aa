package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/netlog-go/netlog/internal/relp"
	"github.com/netlog-go/netlog/internal/transport"
	"golang.org/x/net/ipv4"
)

// kind is the form of one receiver row's input.
type kind int

const (
	octetTCP  kind = iota // RFC 5424, octet-counted, over TCP
	lfTCP                 // RFC 5424, LF after each message, over TCP
	udp                   // RFC 5424, one message per datagram, at a fixed rate
	pickleTCP             // Python SocketHandler frames over TCP
	relpTCP               // RFC 5424 over RELP, windowed
)

func (k kind) String() string {
	return [...]string{"syslog TCP octet-counted", "syslog TCP LF", "syslog UDP", "pickle TCP", "RELP"}[k]
}

// pool is a set of distinct records in one form: record i is
// b[ends[i-1]:ends[i]] (from 0 for the first). Senders cycle through it.
type pool struct {
	b    []byte
	ends []int
}

func (p *pool) record(i int) []byte {
	start := 0
	if i > 0 {
		start = p.ends[i-1]
	}
	return p.b[start:p.ends[i]]
}

// inputs are the records every receiver gets, generated once per run.
type inputs struct {
	msgs, octet, lf, pickles pool
}

// poolSize is how many distinct records each pool holds.
const poolSize = 10000

// generate builds the pools: RFC 5424 messages of about 200 bytes with
// structured data (bare, octet-counted, LF-framed) and Python's own
// SocketHandler frames, made by python3.
func generate(n int) (*inputs, error) {
	k := min(n, poolSize)
	in := &inputs{}
	for i := range k {
		m := fmt.Sprintf(`<165>1 2026-12-01T04:30:00.%06dZ host%d.example.com benchapp 4242 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="%d"] user alice logged in from 192.0.2.%d path=/api/v1/login latency=1.5ms ok=true`,
			i%1000000, i%16, 1000+i, i%250)
		in.msgs.b = append(in.msgs.b, m...)
		in.msgs.ends = append(in.msgs.ends, len(in.msgs.b))
		in.octet.b = append(strconv.AppendInt(in.octet.b, int64(len(m)), 10), ' ')
		in.octet.b = append(in.octet.b, m...)
		in.octet.ends = append(in.octet.ends, len(in.octet.b))
		in.lf.b = append(append(in.lf.b, m...), '\n')
		in.lf.ends = append(in.lf.ends, len(in.lf.b))
	}
	out, err := exec.CommandContext(context.Background(), "python3", "py_pickles.py", strconv.Itoa(k)).Output()
	if err != nil {
		return nil, fmt.Errorf("py_pickles.py: %w", err)
	}
	in.pickles.b = out
	for off := 0; off < len(out); {
		if len(out)-off < 4 {
			return nil, fmt.Errorf("py_pickles.py: %d stray bytes at the end", len(out)-off)
		}
		off += 4 + int(binary.BigEndian.Uint32(out[off:]))
		in.pickles.ends = append(in.pickles.ends, off)
	}
	if len(in.pickles.ends) != k || in.pickles.ends[k-1] != len(out) {
		return nil, fmt.Errorf("py_pickles.py: %d frames in %d bytes, want %d frames", len(in.pickles.ends), len(out), k)
	}
	return in, nil
}

// stream writes count records of p to conn, from record first on,
// cycling, in writes of up to 256 KiB of whole records.
func stream(conn net.Conn, p *pool, first, count int) error {
	const chunk = 256 << 10
	var buf []byte
	i := first % len(p.ends)
	for sent := 0; sent < count; {
		buf = buf[:0]
		for ; sent < count && len(buf) < chunk; sent++ {
			buf = append(buf, p.record(i)...)
			i = (i + 1) % len(p.ends)
		}
		if _, err := conn.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// share splits n records over conns: connection c sends records
// [first, first+count).
func share(n, conns, c int) (first, count int) {
	count = n / conns
	if c < n%conns {
		count++
	}
	return c*(n/conns) + min(c, n%conns), count
}

// parallel runs send for connections 0..conns-1 at once and returns the
// first error.
func parallel(conns int, send func(c int) error) error {
	errs := make([]error, conns)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() { errs[c] = send(c) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// sendStream sends n records of p over conns TCP connections to addr and
// closes them.
func sendStream(addr string, p *pool, n, conns int) error {
	return parallel(conns, func(c int) error {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		first, count := share(n, conns, c)
		return stream(conn, p, first, count)
	})
}

// sendRELP sends n messages over conns RELP sessions to addr, each
// windowed by netlog's RELP client (relpWindow), and closes them once
// every message is acknowledged.
func sendRELP(addr string, p *pool, n, conns int) error {
	return parallel(conns, func(c int) error {
		cl := relpClient(addr)
		defer cl.Close()
		first, count := share(n, conns, c)
		// Whole passes over the pool, then the rest: WriteFrames takes a
		// contiguous run of messages.
		ctx := context.Background()
		for count > 0 {
			i := first % len(p.ends)
			m := min(count, len(p.ends)-i)
			start := 0
			if i > 0 {
				start = p.ends[i-1]
			}
			ends := make([]int, m)
			for j := range m {
				ends[j] = p.ends[i+j] - start
			}
			if _, err := cl.WriteFrames(ctx, p.b[start:p.ends[i+m-1]], ends); err != nil {
				return fmt.Errorf("RELP: %w", err)
			}
			first, count = first+m, count-m
		}
		return nil
	})
}

// relpWindow is the RELP sender's window, four times netlog's default:
// at 1,024 messages in flight the RELP rows measure the session's round
// trip (through the receiver's reader, decoder, writer and commit, and
// the sender's two goroutines) more than the receiver's throughput
// (docs/benchmarks-receiver.md).
const relpWindow = 4096

func relpClient(addr string) *relp.Client {
	var d net.Dialer
	return relp.NewClient(&transport.Dialer{
		Dial:    func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) },
		Timeout: 10 * time.Second,
		Now:     time.Now,
	}, time.Minute, relpWindow)
}

// sendUDP sends n messages to addr, one per datagram, at rate datagrams
// per second, and returns the rate it achieved. Every receiver faces the
// same sender, one that keeps the rate on a loaded machine: on loopback
// the sender's system calls carry the kernel's whole receive path too
// (softirq, about 3 µs of CPU per datagram), so a receiver that took
// more CPU used to be offered fewer datagrams. So the sender runs on an
// OS thread of its own, raised in priority where the process may (nice
// -10; it leaves the other threads as they are), sends up to udpBatch
// datagrams per sendmmsg (WriteBatch), and sleeps between bursts of
// what is due (the runtime's timers wake it about once a millisecond: a
// burst of ~200 datagrams at 200,000/s, well within the receive
// buffers).
func sendUDP(addr string, p *pool, n, rate int) (float64, error) {
	// The goroutine ends locked to its thread, so that the thread, raised,
	// ends with it rather than run other goroutines.
	runtime.LockOSThread()
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), -10); err != nil {
		raiseOnce.Do(func() {
			fmt.Fprintf(os.Stderr, "UDP sender at normal priority (%v): its offered rate varies with the receiver's CPU\n", err)
		})
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	pc := ipv4.NewPacketConn(conn.(*net.UDPConn))
	batch, bufs := make([]ipv4.Message, udpBatch), make([][]byte, udpBatch)
	for i := range batch {
		batch[i].Buffers = bufs[i : i+1]
	}
	start := time.Now()
	for sent := 0; sent < n; {
		due := min(n, int(time.Since(start).Seconds()*float64(rate))+1)
		if sent >= due {
			time.Sleep(200 * time.Microsecond) // pacing: the offered rate is the point
			continue
		}
		for sent < due {
			ms := batch[:min(len(batch), due-sent)]
			for i := range ms {
				bufs[i] = p.record((sent + i) % len(p.ends))
			}
			k, err := pc.WriteBatch(ms, 0)
			if err != nil {
				return 0, err
			}
			sent += k
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// udpBatch is the most datagrams sendUDP sends with one sendmmsg.
const udpBatch = 256

var raiseOnce sync.Once

// probe sends one record of kind k so that the caller can wait for it to
// reach the output.
func probe(k kind, addr string, in *inputs) error {
	network := "tcp"
	switch k {
	case relpTCP:
		cl := relpClient(addr)
		defer cl.Close()
		return cl.Write(context.Background(), in.msgs.record(0))
	case udp:
		network = "udp"
	}
	p := map[kind]*pool{octetTCP: &in.octet, lfTCP: &in.lf, udp: &in.msgs, pickleTCP: &in.pickles}[k]
	conn, err := net.Dial(network, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write(p.record(0))
	return err
}
