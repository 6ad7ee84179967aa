package mail

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzHeaderText: whatever a record holds, the header text made of it has
// no line break (no header injection) and is valid UTF-8.
func FuzzHeaderText(f *testing.F) {
	f.Add("Disk full\r\nBcc: victim@example.com")
	f.Add("\u2028line\u2029sep\x85nel")
	f.Add("\xff\xfe broken")
	f.Fuzz(func(t *testing.T, s string) {
		h := HeaderText(s)
		if strings.ContainsAny(h, "\r\n") || !utf8.ValidString(h) {
			t.Fatalf("HeaderText(%q) = %q", s, h)
		}
	})
}
