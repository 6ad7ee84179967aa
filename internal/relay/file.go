package relay

import (
	"net/url"

	"github.com/netlog-go/netlog/internal/rotate"
	"github.com/netlog-go/netlog/internal/urlquery"
	"github.com/netlog-go/netlog/receive"
)

func init() { Register("file", openFile) }

// fileOutput is a file:// output: records printed to a file that rotates
// as its URL says (docs/file-output.md), and that SIGHUP reopens after an
// external rotation moved it away.
type fileOutput struct {
	Output
	f *rotate.File
}

// Reopen closes the file and opens its path again.
func (o fileOutput) Reopen() error { return o.f.Reopen() }

// openFile opens file:///path?max-size=…&max-age=…&keep=…&compress=gzip,
// with format= (text or json; default --format), sync=true (fsync each
// batch before its records count as delivered) and level=.
func openFile(u *url.URL, env *Env) (Output, error) {
	q := urlquery.New(u.Query())
	path, cfg, err := rotate.ParseURL(u, q)
	if err != nil {
		return nil, err
	}
	p := &receive.Printer{JSON: printJSON(q, env), Sync: q.Bool("sync")}
	level := levelOf(q)
	if err := q.Done(u.Scheme); err != nil {
		return nil, err
	}
	cfg.OnError = env.OnError
	f, err := rotate.Open(path, cfg)
	if err != nil {
		return nil, err
	}
	p.W = f
	return fileOutput{CommitterOutput(display(u), p, level, p.Flush, f.Close), f}, nil
}
