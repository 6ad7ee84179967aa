package netlog_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testrecv"
)

func newHandler(t testing.TB, datagram bool, network, addr string, o *netlog.Options) netlog.Handler {
	t.Helper()
	newH := netlog.NewSocketHandler
	if datagram {
		newH = netlog.NewDatagramHandler
	}
	h, err := newH(network, addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// TestSlogtest runs testing/slogtest on every handler and codec, sync and
// async, decoding what actually crossed the socket.
func TestSlogtest(t *testing.T) {
	for _, c := range []struct {
		network string
		codec   netlog.Codec
		async   bool
	}{
		{"tcp", netlog.CodecPickle, false}, {"tcp", netlog.CodecJSON, false}, {"unix", netlog.CodecPickle, false},
		{"udp", netlog.CodecPickle, false}, {"udp", netlog.CodecJSON, false}, {"unixgram", netlog.CodecPickle, false},
		{"tcp", netlog.CodecPickle, true}, {"unix", netlog.CodecJSON, true}, {"udp", netlog.CodecPickle, true},
	} {
		name := c.network + "/" + string(c.codec)
		var async *netlog.Async
		if c.async {
			name, async = name+"/async", &netlog.Async{}
		}
		t.Run(name, func(t *testing.T) {
			r := testrecv.Start(t, c.network)
			datagram := c.network == "udp" || c.network == "unixgram"
			h := newHandler(t, datagram, c.network, r.Addr, &netlog.Options{Codec: c.codec, Async: async})
			slogtest.Run(t,
				func(*testing.T) slog.Handler { return h },
				func(t *testing.T) map[string]any { return testrecv.Map(r.Next(t)) })
			if err := h.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := h.Stats()
			if st.Failed != 0 || st.Written != st.Handled || st.Enqueued != 0 && st.Enqueued != st.Written || st.Connects != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestConstructionErrors(t *testing.T) {
	for _, c := range []struct {
		name, network, addr string
		datagram            bool
		o                   netlog.Options
		want                string
	}{
		{"no port", "tcp", "localhost", false, netlog.Options{}, "missing port"},
		{"bad port", "tcp", "localhost:70000", false, netlog.Options{}, "70000"},
		{"bad host", "udp", "no such host:9021", true, netlog.Options{}, `"no such host"`},
		{"unknown codec", "tcp", "localhost:9020", false, netlog.Options{Codec: "xml"}, `"xml"`},
		{"empty unix path", "unix", "", false, netlog.Options{}, "empty Unix socket path"},
		{"empty unixgram path", "unixgram", "", true, netlog.Options{}, "empty Unix socket path"},
		{"datagram network on stream", "udp", "localhost:9021", false, netlog.Options{}, `"udp"`},
		{"stream network on datagram", "tcp", "localhost:9020", true, netlog.Options{}, `"tcp"`},
		{"bad backoff", "tcp", "localhost:9020", false, netlog.Options{Backoff: netlog.Backoff{Factor: 0.5}}, "Factor"},
		{"tiny datagram", "udp", "localhost:9021", true, netlog.Options{MaxDatagram: 2}, "MaxDatagram"},
		{"TLS options without TLS", "tcp", "localhost:9020", false, netlog.Options{TLS: &netlog.TLS{}}, "applies only to the tls network"},
		{"TLS on a datagram handler", "tls", "localhost:9020", true, netlog.Options{}, `unknown network "tls"`},
	} {
		newH := netlog.NewSocketHandler
		if c.datagram {
			newH = netlog.NewDatagramHandler
		}
		_, err := newH(c.network, c.addr, &c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one naming %s", c.name, err, c.want)
		}
	}
}

// TestDatagramTooLarge refuses a record over the limit whole: it is
// counted, and the next datagram the receiver sees is the next record.
func TestDatagramTooLarge(t *testing.T) {
	r := testrecv.Start(t, "udp")
	h := newHandler(t, true, "udp", r.Addr, &netlog.Options{MaxDatagram: 1000})
	log := slog.New(h)
	err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, strings.Repeat("x", 2000), 0))
	if !errors.Is(err, netlog.ErrTooLarge) || !strings.Contains(err.Error(), "limit 1000") {
		t.Fatalf("err = %v, want ErrTooLarge naming the limit", err)
	}
	log.Info("small")
	if e := r.Next(t); e.Msg != "small" {
		t.Fatalf("received %q, want the small record", e.Msg)
	}
	if st := h.Stats(); st.Handled != 2 || st.Failed != 1 || st.TooLarge != 1 || st.Written != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestReceiverDown: a record that cannot be delivered is an error and a
// count, first from the failed connect, then from the backoff.
func TestReceiverDown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nobody.sock")
	h := newHandler(t, false, "unix", path, nil)
	ctx := context.Background()
	rec := slog.NewRecord(time.Now(), slog.LevelWarn, "lost?", 0)
	if err := h.Handle(ctx, rec); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("first record: err = %v, want a connect error naming %s", err, path)
	}
	if err := h.Handle(ctx, rec); !errors.Is(err, netlog.ErrBackingOff) {
		t.Fatalf("second record: err = %v, want ErrBackingOff", err)
	}
	if st := h.Stats(); st.Handled != 2 || st.Failed != 2 || st.Written != 0 || st.ConnectFailures != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestReplaceAttrBuiltins(t *testing.T) {
	r := testrecv.Start(t, "tcp")
	when := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	h := newHandler(t, false, "tcp", r.Addr, &netlog.Options{
		Name: "svc",
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch {
			case a.Key == slog.TimeKey:
				return slog.Time(a.Key, when)
			case a.Key == slog.LevelKey:
				return slog.String(a.Key, "NOTICE")
			case a.Key == slog.MessageKey:
				return slog.String(a.Key, strings.ToUpper(a.Value.String()))
			case a.Key == "secret":
				return slog.Attr{}
			case len(groups) == 1 && groups[0] == "g":
				return slog.String(a.Key, "in g")
			}
			return a
		},
	})
	slog.New(h).Warn("hello", "secret", "x", "name", "clash", slog.Group("g", "k", 1))
	e := r.Next(t)
	attrs := map[string]any{}
	for k, v := range testrecv.Map(e) {
		attrs[k] = v
	}
	if e.Name != "svc" || e.Msg != "HELLO" || e.LevelName != "NOTICE" || e.LevelNo != 30 || !e.Created.Equal(when) {
		t.Errorf("standard fields %+v", *e)
	}
	if _, ok := attrs["secret"]; ok || attrs["name_"] != "clash" {
		t.Errorf("attrs %v: want secret removed and name renamed name_", attrs)
	}
	if g, _ := attrs["g"].(map[string]any); g["k"] != "in g" {
		t.Errorf("group g = %v, want k replaced", attrs["g"])
	}
}

// TestConcurrentUse logs from many goroutines through one handler and
// handlers derived from it: every record arrives whole, none twice.
func TestConcurrentUse(t *testing.T) {
	r := testrecv.Start(t, "tcp")
	h := newHandler(t, false, "tcp", r.Addr, nil)
	const writers, each = 8, 300
	done := make(chan struct{})
	for w := range writers {
		go func() {
			log := slog.New(h).With("writer", w).WithGroup("g")
			for i := range each {
				log.Info(strings.Repeat("x", 100*w), "i", i)
			}
			done <- struct{}{}
		}()
	}
	for range writers {
		<-done
	}
	seen := map[[2]int64]bool{}
	for range writers * each {
		m := testrecv.Map(r.Next(t))
		w, _ := m["writer"].(int64)
		i, _ := m["g"].(map[string]any)["i"].(int64)
		if len(m["msg"].(string)) != 100*int(w) || seen[[2]int64{w, i}] {
			t.Fatalf("record %v arrived torn or twice", m)
		}
		seen[[2]int64{w, i}] = true
	}
	if st := h.Stats(); st.Written != writers*each || st.Failed != 0 || st.Connects != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestContext: Handle gives up at once on a context that is done, and
// counts the record as failed.
func TestContext(t *testing.T) {
	r := testrecv.Start(t, "tcp")
	h := newHandler(t, false, "tcp", r.Addr, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, "late", 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if st := h.Stats(); st.Failed != 1 || st.Connects != 0 {
		t.Errorf("stats %+v", st)
	}
}
