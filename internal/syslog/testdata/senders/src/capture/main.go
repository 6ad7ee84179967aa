// Command capture records the exact bytes a syslog sender writes, for
// scripts/capture-senders.sh. It listens on one loopback port for both UDP
// and TCP and, on SIGTERM (sent after the sender has exited), writes
//
//	<out>.dgrams  every UDP datagram, in arrival order, as
//	              "<decimal length> <bytes>\n" (the bytes verbatim)
//	<out>.stream  the whole byte stream of each TCP connection; a second
//	              connection goes to <out>.2.stream, and so on (a
//	              connection that sent nothing is left out)
//
// It prints the port it listens on, then "ready", on stdout.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	out := flag.String("out", "", "path prefix of the capture files")
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on (UDP and TCP)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	var (
		mu      sync.Mutex
		dgrams  bytes.Buffer
		streams []*bytes.Buffer
		conns   sync.WaitGroup
	)
	go func() {
		buf := make([]byte, 1<<17)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			dgrams.WriteString(strconv.Itoa(n) + " ")
			dgrams.Write(buf[:n])
			dgrams.WriteByte('\n')
			mu.Unlock()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b := new(bytes.Buffer)
			mu.Lock()
			streams = append(streams, b)
			mu.Unlock()
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer c.Close()
				// The sender has exited before SIGTERM, so its connections end;
				// the deadline only bounds a sender that leaves one open.
				c.SetReadDeadline(time.Now().Add(10 * time.Minute))
				var chunk [4096]byte
				for {
					n, err := c.Read(chunk[:])
					mu.Lock()
					b.Write(chunk[:n])
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	fmt.Println(port)
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	done := make(chan struct{})
	go func() { conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		log.Print("capture: a connection was still open after 15 s; writing what came")
	}
	time.Sleep(200 * time.Millisecond) // the last datagrams on loopback
	mu.Lock()
	defer mu.Unlock()
	if dgrams.Len() > 0 {
		write(*out+".dgrams", dgrams.Bytes())
	}
	n := 0
	for _, s := range streams {
		if s.Len() == 0 { // a reconnect that sent nothing (winston-syslog's, after close)
			continue
		}
		if n++; n == 1 {
			write(*out+".stream", s.Bytes())
		} else {
			write(fmt.Sprintf("%s.%d.stream", *out, n), s.Bytes())
		}
	}
	if dgrams.Len() == 0 && n == 0 {
		log.Fatal("capture: nothing came")
	}
}

func write(name string, b []byte) {
	if err := os.WriteFile(name, b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "capture: %s: %d bytes\n", name, len(b))
}
