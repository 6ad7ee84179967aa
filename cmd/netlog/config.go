package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// A --config file is TOML. Each top-level key is a serve flag of the same
// name and sets it as the flag would, unless the command line sets that
// flag too; [[listener]] tables add listeners, each with its own TLS
// files, and [[output]] tables add --out values. docs/config.md has an
// example.
//
// The file is read with github.com/pelletier/go-toml/v2: besides the
// values, its parser gives the line of every key, so that every problem
// names the file, the line and the key, and all are reported at once.

// listenerSpec is one listener to open: a kind (named like its flag:
// "syslog-tls") and its address, with the TLS files of a TLS kind.
type listenerSpec struct {
	kind, addr          string
	cert, key, clientCA string
	// where names one of the spec's keys in an error: `--syslog-tls` for
	// a flag, `netlog.toml:12: key "address"` for a file's [[listener]].
	where func(key string) string
}

// parseWithConfig parses args into fs, then applies the file of
// --config or --check-config to the flags args did not set.
func parseWithConfig(fs *flag.FlagSet, f *serveFlags, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := f.config
	switch {
	case f.config != "" && f.checkConfig != "":
		return errors.New("--config and --check-config: give one")
	case f.checkConfig != "":
		path = f.checkConfig
	case path == "":
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var err error
	f.listeners, f.from, err = applyConfig(fs, path, set)
	if err == nil && len(f.listeners) > 0 {
		// A file that lists listeners gets those: Python's default
		// ports open only if named.
		for name, addr := range map[string]*string{"tcp": &f.tcp, "udp": &f.udp} {
			if _, named := f.from[name]; !named && !set[name] {
				*addr = ""
			}
		}
	}
	return err
}

// checkFailed is an error of netlog serve --check-config.
type checkFailed struct{ error }

func (e checkFailed) Unwrap() error { return e.error }

// explain adds to an error of parseServe where the --config file set
// the flags it names; with --check-config, it is a checkFailed.
func (f *serveFlags) explain(err error) error {
	if err == nil {
		return nil
	}
	if !errors.As(err, new(fileProblems)) {
		err = blame(err, f.from)
	}
	if f.checkConfig != "" {
		return checkFailed{err}
	}
	return err
}

// parseStatus is the exit status for an error of parseServe: 2 for a
// usage error, 1 for a --check-config that found one.
func parseStatus(err error) int {
	if errors.As(err, new(checkFailed)) {
		return 1
	}
	return 2
}

// checkConfig ends --check-config: n listeners were prepared, and
// prepare's err has the problems it found; the --metrics address is
// checked too.
func checkConfig(f *serveFlags, n int, err error, stderr io.Writer) int {
	errs := []error{err}
	if n == 0 && err == nil {
		errs = append(errs, errors.New("every listener is disabled"))
	}
	if f.metrics != "" {
		if err := checkAddress("tcp", f.metrics); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.where("metrics", "metrics"), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(stderr, "netlog serve:", err)
		return 1
	}
	fmt.Fprintf(stderr, "netlog serve: %s: ok, %d listeners\n", f.checkConfig, n)
	return 0
}

// config is a --config file being applied to the serve flags.
type config struct {
	path     string
	lines    map[string]int // key path ("max-frame", "listener.2.kind") → its line
	problems []problem
}

// problem is what is wrong with the key at a line.
type problem struct {
	line int
	err  error
}

// fileProblems are the problems of a --config file, in the order of
// their lines.
type fileProblems []problem

func (ps fileProblems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.err.Error())
	}
	return b.String()
}

// applyConfig reads the TOML file at path and sets fs's flags from it,
// except those the command line set (set); it returns the listeners of
// its [[listener]] tables and the flags it set, with their locations.
func applyConfig(fs *flag.FlagSet, path string, set map[string]bool) (ls []listenerSpec, from map[string]string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--config: %w", err)
	}
	c := &config{path: path}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, nil, fmt.Errorf("%s:%d: %s", path, line, de.Error())
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	c.lines = keyLines(data)
	from = map[string]string{}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return c.lines[a] - c.lines[b] })
	for _, k := range keys {
		switch {
		case k == "listener":
			ls = c.listeners(doc[k])
		case k == "output":
			if !set["out"] {
				c.outputs(fs, doc[k])
				from["out"] = c.at(k)
			}
		case fs.Lookup(k) == nil || k == "config" || k == "check-config":
			c.problem(k, "unknown")
		case !set[k]:
			c.setFlag(fs, k, doc[k])
			from[k] = c.at(k)
		}
	}
	if len(c.problems) > 0 {
		slices.SortStableFunc(c.problems, func(a, b problem) int { return a.line - b.line })
		return ls, from, fileProblems(c.problems)
	}
	return ls, from, nil
}

// setFlag sets flag name to the file's value v, which must have the
// flag's type: a boolean, an integer, a string, or for a size a string or
// an integer.
func (c *config) setFlag(fs *flag.FlagSet, name string, v any) {
	got, want := tomlType(v), flagType(fs.Lookup(name))
	if got != want.toml && !(want.toml == "size" && (got == "string" || got == "integer")) {
		c.problem(name, fmt.Sprintf("a TOML %s; want %s", got, want.desc))
		return
	}
	s := fmt.Sprint(v)
	if err := fs.Set(name, s); err != nil {
		msg := err.Error()
		if !strings.Contains(msg, s) { // the flag package's own errors ("parse error") do not say what
			msg = fmt.Sprintf("%q: want %s (%v)", s, want.desc, err)
		}
		c.problem(name, msg)
	}
}

// keyType is the TOML type of a flag's key, and how to describe it.
type keyType struct{ toml, desc string }

// flagType is the TOML type a flag's key takes.
func flagType(f *flag.Flag) keyType {
	if _, ok := f.Value.(*byteSize); ok {
		return keyType{"size", `a size like "256MiB" or a number of bytes`}
	}
	g, _ := f.Value.(flag.Getter)
	if g == nil {
		return keyType{"string", "a string"}
	}
	switch g.Get().(type) {
	case bool:
		return keyType{"boolean", "true or false"}
	case int, int64, uint, uint64:
		return keyType{"integer", "an integer"}
	case time.Duration:
		return keyType{"string", `a duration like "2s"`}
	}
	return keyType{"string", "a string"}
}

// tomlType names the type of a value decoded from TOML.
func tomlType(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case int64:
		return "integer"
	case string:
		return "string"
	case float64:
		return "float"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return "date or time"
}

// tables is v as an array of tables ([[name]]), or a problem at name.
func (c *config) tables(name string, v any) []map[string]any {
	arr, _ := v.([]any)
	var ts []map[string]any
	for _, e := range arr {
		if t, ok := e.(map[string]any); ok {
			ts = append(ts, t)
		}
	}
	if arr == nil || len(ts) != len(arr) {
		c.problem(name, fmt.Sprintf("a TOML %s; want [[%s]] tables", tomlType(v), name))
		return nil
	}
	return ts
}

// listenerKeys are the keys of a [[listener]] table.
var listenerKeys = []string{"kind", "address", "tls-cert", "tls-key", "tls-client-ca"}

// listeners reads the [[listener]] tables.
func (c *config) listeners(v any) []listenerSpec {
	var ls []listenerSpec
	for i, t := range c.tables("listener", v) {
		at := fmt.Sprintf("listener.%d.", i+1)
		str := func(k string) string {
			s, ok := t[k].(string)
			if _, given := t[k]; given && !ok {
				c.problem(at+k, fmt.Sprintf("a TOML %s; want string", tomlType(t[k])))
			}
			return s
		}
		for k := range t {
			if !slices.Contains(listenerKeys, k) {
				c.problem(at+k, "unknown (a [[listener]] has "+strings.Join(listenerKeys, ", ")+")")
			}
		}
		s := listenerSpec{kind: str("kind"), addr: str("address"),
			cert: str("tls-cert"), key: str("tls-key"), clientCA: str("tls-client-ca"),
			where: func(k string) string { return c.at(at + k) }}
		if c.checkListener(s, at) {
			ls = append(ls, s)
		}
	}
	return ls
}

// checkListener reports what is wrong in a [[listener]] table at key
// path at, other than what only opening it finds.
func (c *config) checkListener(s listenerSpec, at string) bool {
	n := len(c.problems)
	k, ok := kindNamed(s.kind)
	switch {
	case !ok:
		c.problem(at+"kind", fmt.Sprintf("%q; want one of %s", s.kind, strings.Join(kindNames(), ", ")))
	case s.addr == "":
		c.problem(at+"address", "missing")
	case k.tls && (s.cert == "" || s.key == ""):
		c.problem(at+"kind", fmt.Sprintf("%q needs tls-cert and tls-key", s.kind))
	case !k.tls && (s.cert != "" || s.key != "" || s.clientCA != ""):
		c.problem(at+"kind", fmt.Sprintf("%q takes no tls-cert, tls-key or tls-client-ca", s.kind))
	}
	return len(c.problems) == n
}

// outputs sets --out to the URL of each [[output]] table: its url key,
// with every other key added as a query parameter (level = "warning"
// is ?level=warning).
func (c *config) outputs(fs *flag.FlagSet, v any) {
	for i, t := range c.tables("output", v) {
		at := fmt.Sprintf("output.%d.", i+1)
		u, err := outputURL(t)
		if err != nil {
			c.problem(at+"url", err.Error())
			continue
		}
		if fs.Lookup("out") == nil {
			c.problem("output", "this netlog serve has no --out flag")
			return
		}
		if err := fs.Set("out", u); err != nil {
			c.problem(at+"url", err.Error())
		}
	}
}

// outputURL is an [[output]] table's URL, its other keys added as query
// parameters.
func outputURL(t map[string]any) (string, error) {
	raw, ok := t["url"].(string)
	switch {
	case t["url"] == nil:
		return "", errors.New("missing")
	case !ok:
		return "", fmt.Errorf("a TOML %s; want string", tomlType(t["url"]))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for k, v := range t {
		if k == "url" {
			continue
		}
		switch v := v.(type) {
		case string:
			q.Set(k, v)
		case bool, int64, float64:
			q.Set(k, fmt.Sprint(v))
		default:
			return "", fmt.Errorf("key %q: a TOML %s; want a string, number or boolean", k, tomlType(v))
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// problem records a problem with the key at path.
func (c *config) problem(path, msg string) {
	c.problems = append(c.problems, problem{c.line(path), fmt.Errorf("%s: %s", c.at(path), msg)})
}

// at names the key at path: its file, line and name.
func (c *config) at(path string) string {
	name := path[strings.LastIndexByte(path, '.')+1:]
	return fmt.Sprintf("%s:%d: key %q", c.path, c.line(path), name)
}

// line is the line of the key at path, or of the table holding it (a
// key of an inline table).
func (c *config) line(path string) int {
	for p := path; ; p = p[:max(0, strings.LastIndexByte(p, '.'))] {
		if line, ok := c.lines[p]; ok || p == "" {
			return line
		}
	}
}

// keyLines maps the path of each key in a TOML document to its line:
// "max-frame", and for the second [[listener]]'s kind "listener.2.kind".
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	arrays := map[string]int{} // array table → how many so far
	var newlines []int         // their offsets, for each key's line
	for i, c := range data {
		if c == '\n' {
			newlines = append(newlines, i)
		}
	}
	var p unstable.Parser
	p.Reset(data)
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		var parts []string
		line := 0
		for it := e.Key(); it.Next(); {
			parts = append(parts, string(it.Node().Data))
			if line == 0 {
				line, _ = slices.BinarySearch(newlines, int(it.Node().Raw.Offset))
				line++
			}
		}
		key := strings.Join(parts, ".")
		switch e.Kind {
		case unstable.Table:
			table = key
		case unstable.ArrayTable:
			arrays[key]++
			table = key + "." + strconv.Itoa(arrays[key])
			key = table
		case unstable.KeyValue:
			key = strings.TrimPrefix(table+"."+key, ".")
		default:
			continue
		}
		// Each prefix is a key too ("a" of a.b = 1, "listener" of
		// [[listener]]), at the line where it first appears.
		for i := range key {
			if key[i] == '.' {
				mark(lines, key[:i], line)
			}
		}
		mark(lines, key, line)
	}
	return lines
}

// mark records key's line, unless it was seen before.
func mark(lines map[string]int, key string, line int) {
	if _, seen := lines[key]; !seen {
		lines[key] = line
	}
}

// flagMention finds the flags an error message names ("--max-frame").
var flagMention = regexp.MustCompile(`--([a-z][a-z0-9-]*)`)

// blame adds to err, an error about flags, where the file set those of
// them it set: `--max-frame 0: want a positive size (max-frame: netlog.toml:3)`.
func blame(err error, from map[string]string) error {
	var where []string
	for _, m := range flagMention.FindAllStringSubmatch(err.Error(), -1) {
		if at, ok := from[m[1]]; ok && !slices.Contains(where, at) {
			where = append(where, at)
		}
	}
	if len(where) == 0 {
		return err
	}
	return fmt.Errorf("%w (set at %s)", err, strings.Join(where, "; "))
}
