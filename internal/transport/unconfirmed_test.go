package transport

import (
	"strings"
	"testing"
)

// TestUnconfirmed: frames whose bytes the peer acknowledged are forgotten,
// whole frames only; a frame acknowledged in part is kept.
func TestUnconfirmed(t *testing.T) {
	var u unconfirmed
	for _, f := range []string{"aaaa", "bb", "cccccc", "d"} {
		u.add([]byte(f))
		u.sent += len(f)
	}
	kept := func() string { return string(u.buf) + "|" + strings.Repeat("x", len(u.ends)) }
	u.confirm(5) // "aaaa" and one byte of "bb"
	if got := kept(); got != "bbccccccd|xxx" {
		t.Errorf("after 5 bytes: %q", got)
	}
	u.confirm(6) // "bb" now whole
	if got := kept(); got != "ccccccd|xx" {
		t.Errorf("after 6 bytes: %q", got)
	}
	u.add([]byte("ee"))
	u.sent += 2
	u.confirm(u.sent - 3) // "d" and "ee" unacknowledged
	if got := kept(); got != "dee|xx" {
		t.Errorf("with 3 bytes unacknowledged: %q", got)
	}
	u.confirm(u.sent)
	if len(u.buf) != 0 || len(u.ends) != 0 {
		t.Errorf("all acknowledged: %q kept", u.buf)
	}
}
