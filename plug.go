package netlog

import (
	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/internal/urlquery"
)

func init() {
	plug.Handler = func(opts any, dest string, s transport.Sender, maxFrame int) (any, error) {
		o := Options{}
		if p := opts.(*Options); p != nil {
			o = *p
		}
		o.Codec = CodecJSON
		c, err := newCore(&o, dest, s, maxFrame)
		if err != nil {
			return nil, err
		}
		return &socketHandler{c: c}, nil
	}
	plug.Params = func(q *urlquery.Query, opts any) { commonParams(q, opts.(*Options)) }
	plug.Report = func(h any, records int, err error) { h.(*socketHandler).c.errs.report(CauseRefused, records, err) }
}
