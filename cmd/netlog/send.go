package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/netlog-go/netlog"
	_ "github.com/netlog-go/netlog/smtp"      // smtp:// and smtps:// for --to
	_ "github.com/netlog-go/netlog/tlsclient" // tls://, syslog+tls:// and syslog+relp+tls://
)

// DefaultTo is where netlog send sends by default: netlog serve's default
// TCP listener.
const DefaultTo = "tcp://127.0.0.1:9020"

type sendFlags struct {
	to      string
	level   slog.Level
	name    string
	attrs   []slog.Attr
	timeout time.Duration
	message string // "" means the lines of standard input
}

func parseSend(args []string, stderr io.Writer) (*sendFlags, error) {
	f := &sendFlags{}
	fs := flag.NewFlagSet("netlog send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.to, "to", DefaultTo, "destination `URL`: tcp://, tls://, unix://, udp://, unixgram://, syslog://, syslog+udp://, syslog+tcp://, syslog+tls://, syslog+relp://, syslog+relp+tls://, syslog+unix://, syslog+unixgram://, smtp://, smtps://, kafka://, otlp+http://, otlp+https://, stderr://, stdout:// (docs/urls.md lists the parameters)")
	fs.TextVar(&f.level, "level", slog.LevelInfo, "the records' `level`: debug, info, warn, error, optionally +N or -N")
	fs.StringVar(&f.name, "name", "netlog", "logger `name` (Python's record.name; syslog's APP-NAME)")
	fs.Func("attr", "add attribute `key=value` to every record (repeatable)", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q is not key=value", s)
		}
		f.attrs = append(f.attrs, slog.String(k, v))
		return nil
	})
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "at the end, how long to wait for pending records to be delivered; while some are delivered in each such period, up to ten times as long")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	f.message = strings.Join(fs.Args(), " ")
	if fs.NArg() > 0 && f.message == "" {
		return nil, errors.New("empty message")
	}
	return f, nil
}

// sendStats is what a run of netlog send reports.
type sendStats struct {
	handled, failed uint64
}

// send is netlog send: logger(1) for every destination netlog.Open knows.
func send(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) int {
	f, err := parseSend(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "netlog send:", err)
		return 2
	}
	h, err := netlog.Open(f.to, &netlog.Options{Level: f.level, Name: f.name})
	if err != nil {
		fmt.Fprintln(stderr, "netlog send:", err)
		return 2
	}
	var handler slog.Handler = h
	if len(f.attrs) > 0 {
		handler = h.WithAttrs(f.attrs)
	}
	ef, tty := stderr.(*os.File)
	tty = tty && isTerminal(ef)
	start := time.Now()
	st, readErr := f.emit(ctx, handler, stdin, stderr, tty)
	if err := finish(h, f.timeout); err != nil {
		fmt.Fprintln(stderr, "netlog send:", err)
	}
	st.failed += undelivered(h)
	if f.message == "" || st.failed > 0 {
		elapsed := time.Since(start)
		fmt.Fprintf(stderr, "netlog send: %d sent, %d failed, %.0f records/s\n",
			st.handled-st.failed, st.failed, float64(st.handled)/elapsed.Seconds())
	}
	switch {
	case readErr != nil:
		fmt.Fprintln(stderr, "netlog send: reading standard input:", readErr)
		return 1
	case st.failed > 0:
		return 1
	}
	return 0
}

// emit sends the message, or each line of stdin, as one record. On a
// terminal it shows progress every second.
func (f *sendFlags) emit(ctx context.Context, h slog.Handler, stdin io.Reader, stderr io.Writer, tty bool) (sendStats, error) {
	var st sendStats
	one := func(msg string) {
		st.handled++
		if err := h.Handle(ctx, slog.NewRecord(time.Now(), f.level, msg, 0)); err != nil {
			st.failed++
			if st.failed <= 10 {
				fmt.Fprintln(stderr, "netlog send:", err)
			}
		}
	}
	if f.message != "" {
		one(f.message)
		return st, nil
	}
	lines := bufio.NewScanner(stdin)
	lines.Buffer(make([]byte, 64<<10), 16<<20)
	start, shown := time.Now(), time.Now()
	for lines.Scan() && ctx.Err() == nil {
		one(lines.Text())
		if tty && st.handled%4096 == 0 && time.Since(shown) >= time.Second {
			shown = time.Now()
			fmt.Fprintf(stderr, "\rnetlog send: %d records, %.0f/s ", st.handled, float64(st.handled)/time.Since(start).Seconds())
		}
	}
	if tty && st.handled >= 4096 {
		fmt.Fprintln(stderr)
	}
	if err := lines.Err(); err != nil {
		return st, err
	}
	return st, ctx.Err()
}

// endPeriods bounds the wait at the end: at most this many times
// --timeout, however long the destination keeps taking records.
const endPeriods = 10

// finish waits for h's pending records and closes h. It waits for
// timeout, and again as long as some records were delivered in the last
// timeout (a live peer still acknowledging a backlog: RELP into a slow
// rsyslog, say), up to endPeriods timeouts; records still pending then
// are given up, and counted as undelivered. Over RELP, a record counts as
// delivered when its acknowledgment comes in (Stats.Acknowledged), before
// its batch is done.
func finish(h netlog.Handler, timeout time.Duration) error {
	for period := 1; period < endPeriods; period++ { // Close's wait is the last period
		before := progress(h.Stats())
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := h.Flush(ctx)
		cancel()
		if err == nil {
			break
		}
		if progress(h.Stats()) == before { // none delivered: the peer is gone or stuck
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(fmt.Errorf("none delivered in the last %v", timeout))
			return h.Close(ctx)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return h.Close(ctx)
}

// progress grows whenever a pending record is resolved, or acknowledged.
func progress(st netlog.Stats) uint64 {
	return st.Written + st.Dropped.Total() + st.Acknowledged
}

// undelivered counts the records a handler queued but did not deliver:
// dropped from its queue, left in it at Close, or (SMTP) in emails that
// failed. A synchronous handler queues nothing: its failures are Handle's.
func undelivered(h netlog.Handler) uint64 {
	st := h.Stats()
	if st.Enqueued == 0 {
		return 0
	}
	return st.Enqueued - st.Written - st.Discarded
}

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
