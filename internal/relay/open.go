package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/forward"
	"github.com/netlog-go/netlog/receive"
)

// Env is what opening an output may take from the command.
type Env struct {
	Stdout, Stderr io.Writer
	// JSON is the default format of stdout and stderr outputs (--format).
	JSON bool
	// Sync fsyncs a stdout output after each batch (--fsync).
	Sync bool
	// OnError, if not nil, is told of a handler output's failures.
	OnError func(error)
}

// An Opener makes the output for a URL of a scheme it was registered for.
// It reads the URL's query itself and names the URL and key of anything
// it does not take.
type Opener func(u *url.URL, env *Env) (Output, error)

var registry = struct {
	sync.RWMutex
	m map[string]Opener
}{m: map[string]Opener{"stdout": openConsole, "stderr": openConsole}}

// Register makes Open hand URLs of scheme to open (as the file output
// does for file://). A scheme that is neither registered here nor
// stdout or stderr goes to netlog.Open, which knows the library's
// schemes and those added with netlog.RegisterScheme.
func Register(scheme string, open Opener) {
	registry.Lock()
	defer registry.Unlock()
	if registry.m[scheme] != nil || open == nil {
		panic("relay: Register: scheme " + strconv.Quote(scheme) + " is taken, or open is nil")
	}
	registry.m[scheme] = open
}

// Open returns the output named by rawURL. "stdout" and "stderr" may be
// written without "://".
func Open(rawURL string, env *Env) (Output, error) {
	for _, c := range [...]string{"stdout", "stderr"} {
		if rest, ok := strings.CutPrefix(rawURL, c); ok && !strings.HasPrefix(rest, ":") {
			rawURL = c + "://" + rest
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	registry.RLock()
	open := registry.m[u.Scheme]
	registry.RUnlock()
	if open == nil {
		return openHandler(u, env)
	}
	o, err := open(u, env)
	if err != nil {
		return nil, fmt.Errorf("--out %q: %w", display(u), err)
	}
	return o, nil
}

// display is u as a message or metric names it: its password masked,
// and "stdout://" rather than url's "stdout:".
func display(u *url.URL) string {
	s := u.Redacted()
	if rest, ok := strings.CutPrefix(s, u.Scheme+":"); ok && !strings.HasPrefix(rest, "//") && u.Opaque == "" {
		s = u.Scheme + "://" + rest
	}
	return s
}

// openConsole opens stdout:// or stderr://, printed as netlog serve
// prints: ?format=text|json, ?level=.
func openConsole(u *url.URL, env *Env) (Output, error) {
	if u.Host != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return nil, fmt.Errorf("%s takes no host or path", u.Scheme)
	}
	q := u.Query()
	p := &receive.Printer{W: env.Stdout, JSON: env.JSON, Sync: env.Sync && u.Scheme == "stdout"}
	if u.Scheme == "stderr" {
		p.W = env.Stderr
	}
	level := everything
	for k := range q {
		v := q.Get(k)
		var err error
		switch k {
		case "format":
			p.JSON = v == "json"
			if v != "json" && v != "text" {
				err = errors.New("want text or json")
			}
		case "level":
			level, err = parseLevel(v)
		default:
			return nil, fmt.Errorf("unknown parameter %q for %s", k, u.Scheme)
		}
		if err != nil {
			return nil, fmt.Errorf("parameter %s=%q: %w", k, v, err)
		}
	}
	return CommitterOutput(display(u), p, level, p.Flush, nil), nil
}

// everything is an output's level unless level= says otherwise: a relay
// forwards what it receives, whatever its level.
const everything = slog.Level(math.MinInt32)

// parseLevel reads a level as netlog.Open's level= does: a name with an
// optional offset (warn+2), or a number.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		n, nerr := strconv.Atoi(s)
		if nerr != nil {
			return 0, errors.New("want debug, info, warn, error (with an optional +N or -N) or a number")
		}
		l = slog.Level(n)
	}
	return l, nil
}

// openHandler opens an output through netlog.Open: asynchronous (the
// URL's buffer=, overflow=, … apply without async=true), with the
// overflow policy Block unless the URL says otherwise. Its errors name
// the URL, as netlog.Open's do.
func openHandler(u *url.URL, env *Env) (Output, error) {
	if q := u.Query(); q.Has("async") && q.Get("async") != "true" {
		return nil, fmt.Errorf("--out %q: parameter async=%q: an output is always asynchronous", display(u), q.Get("async"))
	}
	opts := &netlog.Options{Level: everything, Async: &netlog.Async{Overflow: netlog.Block}, OnError: env.OnError}
	h, err := netlog.Open(u.String(), opts)
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	f, ok := h.(forward.Handler)
	if !ok {
		h.Close(context.Background())
		return nil, fmt.Errorf("--out %q: the %s output cannot forward received records", display(u), u.Scheme)
	}
	return &handlerOutput{name: display(u), h: h, f: f}, nil
}
