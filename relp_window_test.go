package netlog_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/relp"
)

var recNo = regexp.MustCompile(`rec(\d+)\.`)

// TestRELPReconnectMidWindow: the server acknowledges the first cut
// messages of its first session, reads on without acknowledging until the
// client's window is full, and ends the session. The async
// handler opens a second session and sends there exactly the messages
// the first did not acknowledge, in order: none of the acknowledged
// prefix again, none of the rest missing.
func TestRELPReconnectMidWindow(t *testing.T) {
	const n, window, cut = 5000, 64, 1234
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	unacked := make(chan int, 1) // messages the first session read past the cut
	second := make(chan []int, 1)
	logged := make(chan struct{})
	go func() {
		<-logged // all queued: the spool's batches then reach well past the cut
		c, err := ln.Accept()
		if err != nil {
			return
		}
		unacked <- serveFirstSession(c, cut, cut+window)
		c, err = ln.Accept()
		if err != nil {
			return
		}
		second <- serveRecording(c)
	}()
	h, err := netlog.NewSyslogHandler("relp", ln.Addr().String(), &netlog.SyslogOptions{RELPWindow: window, Options: netlog.Options{
		Async:   &netlog.Async{MaxRecords: n},
		Backoff: netlog.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	for i := range n {
		log.Info(fmt.Sprintf("rec%d.", i))
	}
	close(logged)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatalf("flush: %v; stats %+v", err, h.Stats())
	}
	st := h.Stats()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	past := <-unacked
	got := <-second
	t.Logf("the first session read %d messages past the %d it acknowledged; stats %+v", past, cut, st)
	if s := suffixSummary(got, cut, n); s != "" {
		t.Errorf("the second session got %d messages, not exactly rec%d… rec%d in order: %s", len(got), cut, n-1, s)
	}
	if past != window {
		t.Errorf("the first session read %d messages past the acknowledged ones, want a window's worth, %d", past, window)
	}
	if st.Written != n || st.Connects != 2 || st.Dropped.Total() != 0 {
		t.Errorf("stats %+v", st)
	}
}

// serveFirstSession acknowledges the first cut messages, reads on up to
// message last (or for a minute), then closes its side, reads to the
// client's close, and returns how many messages it read past the cut.
func serveFirstSession(c net.Conn, cut, last int) int {
	defer c.Close()
	rd := relp.NewReader(c, 1<<20)
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a client that stops short fails the test, not hangs it
	seen := 0
	for seen < last {
		f, err := rd.Next()
		if err != nil {
			break
		}
		text := relp.OK
		switch f.Command {
		case "open":
			text = relp.OK + "\n" + relp.Offers
		case "syslog":
			if seen++; seen > cut {
				continue
			}
		}
		if _, err := c.Write(relp.Append(nil, f.Txnr, "rsp", []byte(text))); err != nil {
			break
		}
	}
	// FIN, not RST: the client must read every acknowledgment sent.
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		if _, err := rd.Next(); err != nil {
			return seen - cut
		}
	}
}

// serveRecording acknowledges everything, and returns the record numbers
// of the messages, in the order they came, at the client's close.
func serveRecording(c net.Conn) []int {
	defer c.Close()
	rd := relp.NewReader(c, 1<<20)
	var got []int
	for {
		f, err := rd.Next()
		if err != nil {
			return got
		}
		text := relp.OK
		switch f.Command {
		case "open":
			text = relp.OK + "\n" + relp.Offers
		case "syslog":
			if m := recNo.FindSubmatch(f.Data); m != nil {
				i, _ := strconv.Atoi(string(m[1]))
				got = append(got, i)
			} else {
				got = append(got, -1)
			}
		}
		if _, err := c.Write(relp.Append(nil, f.Txnr, "rsp", []byte(text))); err != nil || f.Command == "close" {
			return got
		}
	}
}

// suffixSummary says how got differs from from, from+1, … to-1: the
// records missing, those that came more than once, and the first place
// where the order breaks; "" if it does not.
func suffixSummary(got []int, from, to int) string {
	seen := map[int]int{}
	gap := -1
	for k, i := range got {
		seen[i]++
		if gap < 0 && i != from+k {
			gap = k
		}
	}
	if gap < 0 && len(got) == to-from {
		return ""
	}
	var missing, dups []string
	for i := from; i < to; i++ {
		if seen[i] == 0 {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	for i, c := range seen {
		if c > 1 || i < from || i >= to {
			dups = append(dups, fmt.Sprintf("rec%d×%d", i, c))
		}
	}
	s := fmt.Sprintf("%d missing %s; %d duplicated or unexpected %s", len(missing), firstFew(missing), len(dups), firstFew(dups))
	if gap >= 0 {
		s += fmt.Sprintf("; first gap at position %d: rec%d where rec%d was due", gap, got[gap], from+gap)
	}
	return s
}

func firstFew(s []string) string {
	if len(s) > 10 {
		s = append(s[:10:10], "…")
	}
	return "[" + strings.Join(s, " ") + "]"
}
