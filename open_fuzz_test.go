package netlog_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/netlog-go/netlog"
)

// FuzzOpen: no URL makes Open panic; what it accepts closes cleanly. URLs
// that name files or the environment (ca, password-env) are left out: a
// fuzzer must not read /dev/zero.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{
		"tcp://127.0.0.1:9020?codec=json&async=true&buffer=10",
		"syslog+tls://[::1]:6514?facility=local0&framing=lf",
		"smtps://u:p@mail.example.com:465?from=a@example.com&to=b@example.com",
		"unixgram:///dev/log?max-datagram=9000",
		"udp://x:1?level=warn+2&name=a&name=b",
		"tcp:opaque", "%zz://", "tcp://u:hunter2@[::1",
		"syslog+relp://127.0.0.1:2514,[::1]:2515?failover-after=2", "tcp://a:1,,b/?failover-after=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, rawQuery, _ := strings.Cut(s, "?") // as Open reads it, even where url.Parse fails (host lists)
		if q, _ := url.ParseQuery(rawQuery); q.Has("ca") || q.Has("password-env") {
			return
		}
		h, err := netlog.Open(s, nil)
		if err != nil {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // nothing was sent: Close must not wait
		h.Close(ctx)
	})
}
