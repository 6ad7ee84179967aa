// Package dedup finds the records a receiver has already seen: those of a
// sender that numbers them (netlog's Options.Sequence) that arrive again,
// as at-least-once delivery sends them after a reconnect.
package dedup

import (
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/netlog-go/netlog/internal/forward"
	"github.com/netlog-go/netlog/record"
)

// Key returns the instance id and sequence number a record carries; ok
// is false if it carries none (or a malformed one). They are where the
// sender wrote them, or where a relay that changed the format put them:
// the params seq and id of the RFC 5424 element forward.SDID, or params
// netlog_seq and netlog_id (a pickle or JSON record relayed as RFC 5424);
// the fields netlog_seq and netlog_id, or the fields seq and id of
// structured_data's forward.SDID (RFC 5424 relayed as a pickle or JSON).
func Key(e *record.Entry) (id string, seq uint64, ok bool) {
	if e.Syslog != nil {
		for _, el := range e.Syslog.SD {
			if el.ID == forward.SDID {
				if id, seq, ok = sdKey(el.Params, forward.IDParam, forward.SeqParam); ok {
					return id, seq, ok
				}
			}
		}
		for _, el := range e.Syslog.SD {
			if id, seq, ok = sdKey(el.Params, forward.IDField, forward.SeqField); ok {
				return id, seq, ok
			}
		}
	}
	if id, seq, ok = attrKey(e.Attrs, forward.IDField, forward.SeqField); ok {
		return id, seq, ok
	}
	for _, a := range e.Attrs {
		if a.Key == "structured_data" && a.Value.Kind() == slog.KindGroup {
			for _, el := range a.Value.Group() {
				if el.Key == forward.SDID && el.Value.Kind() == slog.KindGroup {
					return attrKey(el.Value.Group(), forward.IDParam, forward.SeqParam)
				}
			}
		}
	}
	return "", 0, false
}

func sdKey(params []record.SDParam, idName, seqName string) (id string, seq uint64, ok bool) {
	var seqv string
	for _, p := range params {
		switch p.Name {
		case idName:
			id = p.Value
		case seqName:
			seqv = p.Value
		}
	}
	return parse(id, seqv)
}

func attrKey(attrs []slog.Attr, idName, seqName string) (id string, seq uint64, ok bool) {
	var seqv string
	for _, a := range attrs {
		switch a.Key {
		case idName:
			id = a.Value.String()
		case seqName:
			seqv = a.Value.String()
			if a.Value.Kind() == slog.KindFloat64 { // a JSON decoder's number: 1e+06 would not parse
				seqv = strconv.FormatFloat(a.Value.Float64(), 'f', -1, 64)
			}
		}
	}
	return parse(id, seqv)
}

func parse(id, seqv string) (string, uint64, bool) {
	seq, err := strconv.ParseUint(seqv, 10, 64)
	if id == "" || err != nil {
		return "", 0, false
	}
	return id, seq, true
}

// Filter remembers, for each sender instance id, which of the last Window
// sequence numbers it has seen, for at most MaxIDs ids: a new id beyond
// them evicts the one seen least recently. Its memory is bounded by
// MaxIDs × Window bits. Safe for concurrent use.
type Filter struct {
	window, maxIDs uint64

	mu    sync.Mutex
	ids   map[string]*sender
	clock uint64 // counts Seen calls, to find the least recently used id

	duplicates, evicted, stale atomic.Uint64
}

// sender is one id's window: bit seq%window of bits is set if seq, one of
// the window numbers up to top, was seen.
type sender struct {
	top     uint64
	bits    []uint64
	lastUse uint64
}

// DefaultMaxIDs bounds the ids a Filter follows unless told otherwise.
const DefaultMaxIDs = 1024

// New returns a Filter of window sequence numbers per id (at least 1)
// and at most maxIDs ids (0: DefaultMaxIDs).
func New(window, maxIDs int) *Filter {
	if maxIDs <= 0 {
		maxIDs = DefaultMaxIDs
	}
	w := uint64(max(window, 1))
	return &Filter{window: (w + 63) &^ 63, maxIDs: uint64(maxIDs), ids: map[string]*sender{}}
}

// Seen records (id, seq) and reports whether it was seen before within
// the window, counting it as a duplicate if so. A number older than the
// window is passed (not known, so not dropped) and counted as stale.
func (f *Filter) Seen(id string, seq uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock++
	s := f.ids[id]
	if s == nil {
		s = f.add(id)
	}
	s.lastUse = f.clock
	switch {
	case seq > s.top:
		s.advance(seq, f.window)
	case s.top-seq >= f.window:
		f.stale.Add(1)
		return false
	case s.bits[seq%f.window/64]&(1<<(seq%64)) != 0:
		f.duplicates.Add(1)
		return true
	}
	s.bits[seq%f.window/64] |= 1 << (seq % 64)
	return false
}

// add starts following id, evicting the least recently seen if there are
// maxIDs already.
func (f *Filter) add(id string) *sender {
	if uint64(len(f.ids)) >= f.maxIDs {
		var oldest string
		least := f.clock
		for k, s := range f.ids {
			if s.lastUse < least {
				oldest, least = k, s.lastUse
			}
		}
		delete(f.ids, oldest)
		f.evicted.Add(1)
	}
	s := &sender{bits: make([]uint64, f.window/64)}
	f.ids[strings.Clone(id)] = s // id may be a slice of a receiver's chunk of many records
	return s
}

// advance moves the window's top to seq, clearing the numbers it passes.
func (s *sender) advance(seq, window uint64) {
	if seq-s.top >= window {
		clear(s.bits)
	} else {
		for n := s.top + 1; n < seq; n++ {
			s.bits[n%window/64] &^= 1 << (n % 64)
		}
	}
	s.top = seq
}

// Counts are a Filter's counters.
type Counts struct {
	Duplicates uint64 // records seen again within the window
	Evicted    uint64 // ids forgotten to make room for new ones
	Stale      uint64 // records older than their id's window, passed on
}

// Counts returns f's counters.
func (f *Filter) Counts() Counts {
	return Counts{Duplicates: f.duplicates.Load(), Evicted: f.evicted.Load(), Stale: f.stale.Load()}
}
