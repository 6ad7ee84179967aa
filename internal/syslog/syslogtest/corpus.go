// Package syslogtest reads the syslog test corpora of internal/syslog for
// the tests of this and other packages.
package syslogtest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// Case is one line of a corpus: "FORMAT TAB SOURCE TAB "TEXT" TAB "MESSAGE"".
type Case struct {
	Format  string // how it must be read: rfc5424, rfc3164, rfc3164-nopri, bare or raw
	Source  string // the sender, or the class of error
	Text    string // what must survive in the printed message
	Message string // the bytes sent
}

// Corpus reads a corpus file; '#' starts a comment line.
func Corpus(t testing.TB, path string) []Case {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cs []Case
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("%s:%d: %d fields, want 4", path, i+1, len(f))
		}
		c := Case{Format: f[0], Source: f[1]}
		if c.Text, err = strconv.Unquote(f[2]); err == nil {
			c.Message, err = strconv.Unquote(f[3])
		}
		if err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		cs = append(cs, c)
	}
	return cs
}

// Text is s as the receiver must print it: each byte that is not part of
// valid UTF-8 read as U+FFFD.
func Text(s string) string { return string([]rune(s)) }
