package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/forward"
	"github.com/netlog-go/netlog/internal/urlquery"
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

	spools map[string]string // spool= directory → the output that has it
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
	q := urlquery.New(u.Query())
	w := env.Stdout
	if u.Scheme == "stderr" {
		w = env.Stderr
	}
	p := &receive.Printer{W: w, JSON: printJSON(q, env), Sync: env.Sync && u.Scheme == "stdout"}
	level := levelOf(q)
	if err := q.Done(u.Scheme); err != nil {
		return nil, err
	}
	return CommitterOutput(display(u), p, level, p.Flush, nil), nil
}

// printJSON reads format=, text or json; absent, --format decides.
func printJSON(q *urlquery.Query, env *Env) bool {
	switch f := q.Str("format"); f {
	case "":
		return env.JSON
	case "json", "text":
		return f == "json"
	default:
		q.Fail("format", f, errors.New("want text or json"))
		return false
	}
}

// levelOf reads level=; absent, the output takes every level.
func levelOf(q *urlquery.Query) slog.Leveler {
	if l := q.Level("level"); l != nil {
		return l
	}
	return everything
}

// everything is an output's level unless level= says otherwise: a relay
// forwards what it receives, whatever its level.
const everything = slog.Level(math.MinInt32)

// openHandler opens an output through netlog.Open: asynchronous (the
// URL's buffer=, overflow=, … apply without async=true), with the
// overflow policy Block unless the URL says otherwise. Its errors name
// the URL, as netlog.Open's do.
func openHandler(u *url.URL, env *Env) (Output, error) {
	if q := u.Query(); q.Has("async") && q.Get("async") != "true" {
		return nil, fmt.Errorf("--out %q: parameter async=%q: an output is always asynchronous", display(u), q.Get("async"))
	}
	if err := env.claimSpool(u); err != nil {
		return nil, err
	}
	opts := &netlog.Options{Level: everything, Async: &netlog.Async{Overflow: netlog.Block}, OnError: env.OnError}
	h, err := netlog.Open(u.String(), opts)
	switch {
	case err != nil && !strings.Contains(err.Error(), u.Redacted()):
		// It names the destination (host:port), which several outputs
		// may share with different parameters (spool=, say): name the URL.
		return nil, fmt.Errorf("--out %q: %w", display(u), err)
	case err != nil:
		return nil, fmt.Errorf("--out: %w", err)
	}
	f, ok := h.(forward.Handler)
	if !ok {
		h.Close(context.Background())
		return nil, fmt.Errorf("--out %q: the %s output cannot forward received records", display(u), u.Scheme)
	}
	return &handlerOutput{name: display(u), h: h, f: f, progress: time.Now()}, nil
}

// claimSpool checks the directory of the URL's durable queue (spool=),
// if it has one: an absolute path, as a file output's (a service manager
// may start netlog serve in any working directory, and records must not
// be left behind in one), and no other output's. The queue's lock file
// keeps a second process out of it, but says nothing of which --out
// already has it.
func (env *Env) claimSpool(u *url.URL) error {
	dir := u.Query().Get("spool")
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("--out %q: parameter spool=%q: want an absolute path", display(u), dir)
	}
	dir = filepath.Clean(dir)
	if other, ok := env.spools[dir]; ok {
		return fmt.Errorf("--out %q: parameter spool=%q: the spool of --out %q already; each output needs its own directory", display(u), dir, other)
	}
	if env.spools == nil {
		env.spools = map[string]string{}
	}
	env.spools[dir] = display(u)
	return nil
}
