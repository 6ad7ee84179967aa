package kafka_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/netlog-go/netlog"
)

// FuzzOpen: no kafka:// URL makes Open panic; what it accepts closes
// cleanly without having connected. URLs that name files or the
// environment (ca, password-env) are left out: a fuzzer must not read
// /dev/zero.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{
		"kafka://127.0.0.1:9092,localhost:9093/logs?acks=leader&compression=zstd&linger=5ms&key=peer",
		"kafka://u:p@b1:9092/t.x-y_z?tls=true&sasl=scram-sha-256&insecure-skip-verify=true",
		"kafka://b1:9092/logs?batch-bytes=64KiB&async=false&client-id=c",
		"kafka://b1:9092/logs?buffer=10&overflow=block&block-timeout=1s&level=warn+2",
		"kafka:opaque", "kafka:///t", "kafka://[::1]:9092/t", "kafka://b1:9092,,/t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if u, err := url.Parse(s); err == nil {
			q := u.Query()
			if q.Has("ca") || q.Has("password-env") {
				return
			}
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
