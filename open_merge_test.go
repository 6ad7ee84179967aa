package netlog

import (
	"net/url"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/urlquery"
)

// TestMergeAsync: a URL's queue settings lay over the caller's Async,
// those whose zero value is a setting (overflow=drop-lowest, fsync=batch)
// included; what the URL does not name stays as the caller set it.
func TestMergeAsync(t *testing.T) {
	base := Async{MaxRecords: 7, Overflow: Block, Fsync: 10 * time.Millisecond, Dir: "/spool/a", MemoryFirst: 1 << 20}
	for query, want := range map[string]Async{
		"fsync=batch":                      {MaxRecords: 7, Overflow: Block, Dir: "/spool/a", MemoryFirst: 1 << 20},
		"overflow=drop-lowest&fsync=never": {MaxRecords: 7, Overflow: DropLowest, Fsync: FsyncNever, Dir: "/spool/a", MemoryFirst: 1 << 20},
		"spool=/spool/b&memory-first=2KiB": {MaxRecords: 7, Overflow: Block, Fsync: 10 * time.Millisecond, Dir: "/spool/b", MemoryFirst: 2048},
		"buffer=9":                         {MaxRecords: 9, Overflow: Block, Fsync: 10 * time.Millisecond, Dir: "/spool/a", MemoryFirst: 1 << 20},
	} {
		v, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		a := base
		o := Options{Async: &a}
		p := urlquery.New(v)
		commonParams(p, &o)
		if err := p.Done("tcp"); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if *o.Async != want {
			t.Errorf("%s: %+v, want %+v", query, *o.Async, want)
		}
	}
}
