package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/testcert"
	"github.com/netlog-go/netlog/tlsclient"
)

// writeConfig writes a config file named netlog.toml into a temporary
// directory and returns its path.
func writeConfig(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "netlog.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runServe runs netlog serve in-process with args and returns its exit
// status and stderr.
func runServe(args ...string) (int, string) {
	var out, errs strings.Builder
	code := run(context.Background(), append([]string{"serve"}, args...), nil, &out, &errs)
	return code, errs.String()
}

// TestConfigProblems: every problem of a file is reported at once, each
// naming the file, the line and the key.
func TestConfigProblems(t *testing.T) {
	path := writeConfig(t, `max-frame = "big"
max-frmae = 3
drain = 5
max-memory = "12x"
syslog-multiline = "no"
config = "other.toml"
max-conns = 1.5

[[listener]]
kind = "syslog-tls"
address = "127.0.0.1:6514"
tls-cert = "cert.pem"

[[listener]]
kind = "tcpp"
address = "127.0.0.1:6514"
adress = 4

[[listener]]
kind = "tcp"
tls-key = 7
`)
	want := []string{
		`:1: key "max-frame": a TOML string; want an integer`,
		`:2: key "max-frmae": unknown`,
		`:3: key "drain": a TOML integer; want a duration like "2s"`,
		`:4: key "max-memory": "12x": want a size such as 65536, 64KiB or 16MiB`,
		`:5: key "syslog-multiline": a TOML string; want true or false`,
		`:6: key "config": unknown`,
		`:7: key "max-conns": a TOML float; want an integer`,
		`:10: key "kind": "syslog-tls" needs tls-cert and tls-key`,
		`:15: key "kind": "tcpp"; want one of tcp, tls, udp,`,
		`:17: key "adress": unknown (a [[listener]] has kind, address, tls-cert, tls-key, tls-client-ca)`,
		`:19: key "address": missing`,
		`:21: key "tls-key": a TOML integer; want string`,
	}
	for _, args := range [][]string{{"--check-config", path}, {"--config", path}} {
		code, stderr := runServe(args...)
		if wantCode := map[string]int{"--check-config": 1, "--config": 2}[args[0]]; code != wantCode {
			t.Errorf("%s: exit %d, want %d", args[0], code, wantCode)
		}
		lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(stderr, "netlog serve: "), "\n"), "\n")
		if len(lines) != len(want) {
			t.Errorf("%s: %d problems reported, want %d:\n%s", args[0], len(lines), len(want), stderr)
			continue
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], path+w) {
				t.Errorf("%s: problem %d is %q, want %q", args[0], i+1, lines[i], path+w)
			}
		}
	}
}

// TestConfigSyntaxError: a syntax error names its line.
func TestConfigSyntaxError(t *testing.T) {
	path := writeConfig(t, "drain = \"2s\"\nmax-frame 3\n")
	code, stderr := runServe("--check-config", path)
	if code != 1 || !strings.Contains(stderr, path+":2: ") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, stderr = runServe("--check-config", filepath.Join(t.TempDir(), "none.toml"))
	if code != 1 || !strings.Contains(stderr, "none.toml: no such file") {
		t.Errorf("a missing file: exit %d, stderr %q", code, stderr)
	}
}

// TestConfigFlagsOverride: a flag given on the command line wins over
// the file's key; the file's keys set the other flags; a file with
// listeners leaves Python's default ports closed unless it names them.
func TestConfigFlagsOverride(t *testing.T) {
	path := writeConfig(t, `max-frame = 1000
drain = "7s"
max-memory = 33554432
syslog-multiline = false
tcp = "127.0.0.1:7020"

[[listener]]
kind = "relp"
address = "127.0.0.1:2514"
`)
	f, err := parseServe([]string{"--config", path, "--max-frame", "5000", "--syslog-multiline=true"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if f.maxFrame != 5000 || f.drain != 7*time.Second || f.maxMemory != 32<<20 || !f.syslogMultiline {
		t.Errorf("max-frame %d, drain %v, max-memory %v, syslog-multiline %v", f.maxFrame, f.drain, f.maxMemory, f.syslogMultiline)
	}
	var listeners []string
	for _, s := range f.listenerSpecs() {
		listeners = append(listeners, s.kind+" "+s.addr)
	}
	if got := strings.Join(listeners, ", "); got != "tcp 127.0.0.1:7020, relp 127.0.0.1:2514" {
		t.Errorf("listeners %s", got)
	}
	f, err = parseServe([]string{"--config", path, "--udp", "127.0.0.1:7021", "--tcp", ""}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if f.udp != "127.0.0.1:7021" || f.tcp != "" {
		t.Errorf("command line --udp and --tcp: %q, %q", f.udp, f.tcp)
	}
}

// TestConfigCrossChecks: a check that involves several flags names them
// and where the file set them; --check-config exits 1, a start 2.
func TestConfigCrossChecks(t *testing.T) {
	path := writeConfig(t, "drain = \"1s\"\nmax-frame = 0\n")
	for args, wantCode := range map[string]int{"--check-config": 1, "--config": 2} {
		code, stderr := runServe(args, path)
		if want := `--max-frame 0: want a positive size (set at ` + path + `:2: key "max-frame")`; code != wantCode || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", args, code, stderr, wantCode, want)
		}
	}
	code, stderr := runServe("--config", path, "--check-config", path)
	if code != 1 || !strings.Contains(stderr, "give one") {
		t.Errorf("--config and --check-config: exit %d, stderr %q", code, stderr)
	}
}

// TestCheckConfig: --check-config checks addresses and TLS files without
// listening, naming file, line and key, and exits 0 when all is well.
func TestCheckConfig(t *testing.T) {
	certs := testcert.New(t)
	good := writeConfig(t, `metrics = "127.0.0.1:9100"
[[listener]]
kind = "syslog-tls"
address = "127.0.0.1:6514"
tls-cert = "`+certs.CertFile+`"
tls-key = "`+certs.KeyFile+`"
tls-client-ca = "`+certs.CAFile+`"
[[listener]]
kind = "unix"
address = "/nonexistent/dir/log.sock"
`)
	if code, stderr := runServe("--check-config", good); code != 0 || !strings.Contains(stderr, "ok, 2 listeners") {
		t.Errorf("a good file: exit %d, stderr %q", code, stderr)
	}
	bad := writeConfig(t, `metrics = "localhost"
syslog-udp = "127.0.0.1:70000"
[[listener]]
kind = "tls"
address = "127.0.0.1:6514"
tls-cert = "`+certs.CertFile+`"
tls-key = "`+certs.CAFile+`"
[[listener]]
kind = "relp-tls"
address = "127.0.0.1:2514"
tls-cert = "`+certs.CertFile+`"
tls-key = "`+certs.KeyFile+`"
tls-client-ca = "/nonexistent/ca.pem"
[[listener]]
kind = "syslog-tcp"
address = "127.0.0.1"
`)
	code, stderr := runServe("--check-config", bad)
	for _, want := range []string{
		bad + `:2: key "syslog-udp": address 70000: invalid port`,
		bad + `:6: key "tls-cert"/` + bad + `:7: key "tls-key": tls:`,
		bad + `:13: key "tls-client-ca": open /nonexistent/ca.pem`,
		bad + `:16: key "address": address 127.0.0.1: missing port`,
		bad + `:1: key "metrics": address localhost: missing port`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	// The same checks from flags name the flags.
	code, stderr = runServe("--check-config", good, "--tcp", "127.0.0.1:x9", "--metrics", "")
	if code != 1 || !strings.Contains(stderr, "--tcp: lookup tcp/x9: unknown port") {
		t.Errorf("a bad --tcp: exit %d, stderr %q", code, stderr)
	}
}

// TestConfigPerListenerTLS: two TLS listeners from one file, each with
// its own certificate: a client that trusts one server's CA gets through
// to that server only.
func TestConfigPerListenerTLS(t *testing.T) {
	a, b := testcert.New(t), testcert.New(t)
	path := writeConfig(t, `tcp = ""
[[listener]]
kind = "tls"
address = "127.0.0.1:0"
tls-cert = "`+a.CertFile+`"
tls-key = "`+a.KeyFile+`"
[[listener]]
kind = "syslog-tls"
address = "127.0.0.1:0"
tls-cert = "`+b.CertFile+`"
tls-key = "`+b.KeyFile+`"
tls-client-ca = "`+b.CAFile+`"
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startServe(t, ctx, 2, "--config", path)
	opts := &netlog.Options{DialTimeout: time.Minute}
	ha, err := netlog.Open("tls://"+s.addrs["tls"]+"?name=a&ca="+url.QueryEscape(a.CAFile), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ha.Close(context.Background())
	slog.New(ha).Info("to a")
	if l := s.line(t); !strings.HasSuffix(l, " INFO a: to a") {
		t.Errorf("printed %q", l)
	}
	client, err := tlsclient.New(&tls.Config{Certificates: []tls.Certificate{b.Client}}, "")
	if err != nil {
		t.Fatal(err)
	}
	hb, err := netlog.Open("syslog+tls://"+s.addrs["syslog+tls"]+"?ca="+url.QueryEscape(b.CAFile),
		&netlog.Options{TLS: client, DialTimeout: time.Minute, Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close(context.Background())
	slog.New(hb).Warn("to b")
	if l := s.line(t); !strings.Contains(l, "to b") {
		t.Errorf("printed %q", l)
	}
	caA, err := tlsclient.New(nil, a.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := netlog.NewSocketHandler("tls", s.addrs["syslog+tls"], &netlog.Options{TLS: caA, DialTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close(context.Background())
	if err := wrong.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "x", 0)); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client trusting the other listener's CA: %v", err)
	}
}

// TestConfigOutputs: each [[output]] table becomes a --out URL, its other
// keys query parameters; --out on the command line replaces them.
func TestConfigOutputs(t *testing.T) {
	path := writeConfig(t, `[[output]]
url = "file:///var/log/netlog.log?sync=true"
level = "warning"
max-files = 5
[[output]]
url = "stdout"
[[output]]
level = "info"
`)
	var outs []string
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.Func("out", "", func(s string) error { outs = append(outs, s); return nil })
	_, _, err := applyConfig(fs, path, nil)
	if want := path + `:7: key "url": missing`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	if want := []string{"file:///var/log/netlog.log?level=warning&max-files=5&sync=true", "stdout"}; !slices.Equal(outs, want) {
		t.Errorf("outputs %q, want %q", outs, want)
	}
	outs = nil
	if _, _, err := applyConfig(fs, path, map[string]bool{"out": true}); err != nil || outs != nil {
		t.Errorf("with --out given: %v, outputs %q", err, outs)
	}
}

// tomlBlocks are the ```toml blocks of docs/config.md.
func tomlBlocks(t testing.TB) []string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```toml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) != 2 {
		t.Fatalf("docs/config.md has %d toml blocks, want 2 (listeners, outputs)", len(blocks))
	}
	return blocks
}

// TestConfigDocExample: docs/config.md's examples are good: the first
// passes --check-config with its certificate paths pointed at test
// files, the second gives the URLs its comments say.
func TestConfigDocExample(t *testing.T) {
	blocks := tomlBlocks(t)
	certs := testcert.New(t)
	example := strings.NewReplacer(
		"/etc/netlog/syslog.pem", certs.CertFile, "/etc/netlog/relp.pem", certs.CertFile,
		"/etc/netlog/syslog.key", certs.KeyFile, "/etc/netlog/relp.key", certs.KeyFile,
		"/etc/netlog/clients-ca.pem", certs.CAFile,
	).Replace(blocks[0])
	if code, stderr := runServe("--check-config", writeConfig(t, example)); code != 0 || !strings.Contains(stderr, "ok, 5 listeners") {
		t.Errorf("docs/config.md's example: exit %d\n%s", code, stderr)
	}
	var outs []string
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.Func("out", "", func(s string) error { outs = append(outs, s); return nil })
	if _, _, err := applyConfig(fs, writeConfig(t, blocks[1]), nil); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`# (\S+://\S+|stdout\?\S+)`).FindAllStringSubmatch(blocks[1], -1)
	if len(want) != len(outs) {
		t.Fatalf("outputs %q; the doc's comments say %q", outs, want)
	}
	for i, w := range want {
		if outs[i] != w[1] {
			t.Errorf("output %d is %q; the doc says %q", i+1, outs[i], w[1])
		}
	}
}

// FuzzConfig: any file gives a result or problems, never a panic, and
// each problem of a file names the file and a line of it.
func FuzzConfig(f *testing.F) {
	for _, seed := range []string{"max-frame = 3\n[[listener]]\nkind = \"tcp\"\n", "a.b.c = 1\n[x.y]\n'q k' = [{a = 1}]\n",
		"[[output]]\nurl = \"stdout\"\n[[output]]\nlevel = {x = 1}\n", "listener = [{kind = \"udp\", address = 1}]\n"} {
		f.Add(seed)
	}
	blocks := tomlBlocks(f)
	for _, b := range blocks {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, text string) {
		path := writeConfig(t, text)
		_, err := parseServe([]string{"--check-config", path}, io.Discard)
		var ps fileProblems
		if !errors.As(err, &ps) {
			return
		}
		lines := strings.Count(text, "\n") + 1
		for _, p := range ps {
			if p.line < 1 || p.line > lines || !strings.HasPrefix(p.err.Error(), fmt.Sprintf("%s:%d: key ", path, p.line)) {
				t.Errorf("problem at line %d of %d: %v", p.line, lines, p.err)
			}
		}
	})
}
