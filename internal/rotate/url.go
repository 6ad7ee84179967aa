package rotate

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/netlog-go/netlog/internal/urlquery"
)

// ParseURL reads a file output's URL,
//
//	file:///var/log/netlog/app.log?max-size=100MiB&max-age=24h&keep=7&compress=gzip
//
// returning the path (file:///C:/logs/app.log on Windows) and the
// Config of its parameters, read from q:
//
//	max-size=SIZE    Config.MaxSize: 65536, 64KiB, 100MiB, 1GiB (K, M, G too)
//	max-age=DURATION Config.MaxAge: 24h, 30m
//	keep=N           Config.Keep
//	compress=gzip    Config.Compress (compress=none: not compressed)
//	mode=0640        Config.Mode, in octal
//
// q is the URL's query (urlquery.New(u.Query())), shared with the
// caller, which reads its own keys from it (format=, sync=, level=, …)
// before or after, and then calls q.Done("file"): that reports a bad
// value, or a key that neither read, so an unknown key is refused once,
// by whoever reads last.
func ParseURL(u *url.URL, q *urlquery.Query) (string, Config, error) {
	path, err := urlPath(u)
	if err != nil {
		return "", Config{}, fmt.Errorf("file URL %q: %w", u.Redacted(), err)
	}
	cfg := Config{
		MaxSize: int64(q.Size("max-size")),
		MaxAge:  q.Duration("max-age"),
		Keep:    q.Int("keep"),
	}
	switch s := q.Str("compress"); s {
	case "gzip":
		cfg.Compress = true
	case "", "none":
	default:
		q.Fail("compress", s, errors.New("want gzip or none"))
	}
	if s := q.Str("mode"); s != "" {
		m, err := strconv.ParseUint(s, 8, 32)
		if err != nil || m > 0o777 || m == 0 {
			q.Fail("mode", s, errors.New("want permission bits in octal, such as 0640"))
		}
		cfg.Mode = fs.FileMode(m)
	}
	return path, cfg, nil
}

// urlPath returns the file's path: an absolute one, as RFC 8089 has it,
// with no host but localhost.
func urlPath(u *url.URL) (string, error) {
	switch {
	case u.Opaque != "":
		return "", errors.New("want an absolute path: file:///path (three slashes)")
	case u.Host != "" && u.Host != "localhost":
		return "", fmt.Errorf("host %q: a file is on this machine: file:///path (three slashes)", u.Host)
	case u.User != nil:
		return "", errors.New("a file URL takes no user")
	case u.Fragment != "":
		return "", errors.New("'#' starts a URL's fragment: write it %23 in a path")
	case u.Path == "" || strings.HasSuffix(u.Path, "/"):
		return "", errors.New("no file name in the path")
	}
	p := u.Path
	if runtime.GOOS == "windows" && len(p) > 2 && p[0] == '/' && p[2] == ':' { // /C:/logs
		p = p[1:]
	}
	p = filepath.FromSlash(p)
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q is not absolute", p)
	}
	return filepath.Clean(p), nil
}
