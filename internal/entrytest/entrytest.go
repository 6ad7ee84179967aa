// Package entrytest compares record Entries in tests.
package entrytest

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/netlog-go/netlog/record"
)

// Canon prints every field of e and each attribute's key, kind and value
// (groups recursively), so that two Entries compare equal as text whatever
// the memory of their strings, and an empty Attrs equals a nil one.
func Canon(e *record.Entry) string {
	c := *e
	c.Attrs = nil
	var b strings.Builder
	fmt.Fprintf(&b, "%+v created=%d", c, c.Created.UnixNano())
	if c.Syslog != nil {
		fmt.Fprintf(&b, " syslog=%+v", *c.Syslog)
	}
	attrs(&b, e.Attrs, "\n")
	return b.String()
}

func attrs(b *strings.Builder, as []slog.Attr, indent string) {
	for _, a := range as {
		if a.Value.Kind() == slog.KindGroup {
			fmt.Fprintf(b, "%s%q group", indent, a.Key)
			attrs(b, a.Value.Group(), indent+"  ")
			continue
		}
		fmt.Fprintf(b, "%s%q %v %#v", indent, a.Key, a.Value.Kind(), a.Value.Any())
	}
}
