package rotate

import (
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/urlquery"
)

func TestParseURL(t *testing.T) {
	abs := "/var/log/netlog/app.log"
	if runtime.GOOS == "windows" {
		abs = `C:\logs\app.log`
	}
	for _, tc := range []struct {
		url, path string
		cfg       Config
		callers   []string // keys the caller reads
		err       string
	}{
		{url: "file:///var/log/netlog/app.log?max-size=100MiB&max-age=24h&keep=7&compress=gzip",
			cfg: Config{MaxSize: 100 << 20, MaxAge: 24 * time.Hour, Keep: 7, Compress: true}},
		{url: "file://localhost/var/log/netlog/app.log?max-size=65536&mode=0600&compress=none",
			cfg: Config{MaxSize: 65536, Mode: 0o600}},
		{url: "file:///var/log/netlog/app.log?format=json&sync=true&max-size=1M",
			callers: []string{"format", "sync"}, cfg: Config{MaxSize: 1 << 20}},
		{url: "file:///var/log/netlog/app.log?format=json", err: `unknown parameter "format" for file`},
		{url: "file:///var/log/netlog/app.log?max-size=1G&maxsize=1G", err: `unknown parameter "maxsize"`},
		{url: "file:///var/log/netlog/app.log?max-size=lots", err: `max-size="lots": want a size`},
		{url: "file:///var/log/netlog/app.log?max-age=1d", err: `max-age="1d": want a duration`},
		{url: "file:///var/log/netlog/app.log?keep=-1", err: `keep="-1"`},
		{url: "file:///var/log/netlog/app.log?keep=1&keep=2", err: `given more than once`},
		{url: "file:///var/log/netlog/app.log?compress=zstd", err: `compress="zstd": want gzip or none`},
		{url: "file:///var/log/netlog/app.log?mode=0999", err: `mode="0999": want permission bits`},
		{url: "file://logs/app.log", err: `host "logs"`},
		{url: "file:app.log", err: "want an absolute path"},
		{url: "file:///var/log/netlog/", err: "no file name"},
		{url: "file:///var/log/app#1.log", err: "%23"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS == "windows" {
			u.Path = strings.Replace(u.Path, "/var/log/netlog/", "/C:/logs/", 1)
		}
		q := urlquery.New(u.Query())
		path, cfg, err := ParseURL(u, q)
		for _, k := range tc.callers {
			q.Str(k)
		}
		if err == nil {
			err = q.Done("file")
		}
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one saying %s", tc.url, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case path != abs || cfg.MaxSize != tc.cfg.MaxSize || cfg.MaxAge != tc.cfg.MaxAge ||
			cfg.Keep != tc.cfg.Keep || cfg.Compress != tc.cfg.Compress || cfg.Mode != tc.cfg.Mode:
			t.Errorf("%s: %s %+v, want %s %+v", tc.url, path, cfg, abs, tc.cfg)
		}
	}
}
