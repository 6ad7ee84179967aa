// Package urlquery reads the query of a destination URL (netlog.Open's,
// a scheme package's, an output of netlog serve): typed values, the first
// bad one remembered, and every key nobody read reported as unknown, so
// that a misspelt parameter is an error naming it rather than ignored.
package urlquery

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Query is a URL's query being read.
type Query struct {
	v    url.Values
	used map[string]bool
	err  error
}

// New starts reading v.
func New(v url.Values) *Query { return &Query{v: v, used: map[string]bool{}} }

// Has reports whether key was given, without reading it.
func (q *Query) Has(key string) bool { return q.v.Has(key) }

// Get returns key's first value without reading it, for error messages.
func (q *Query) Get(key string) string { return q.v.Get(key) }

// Str returns the parameter's value; given twice, it is an error.
func (q *Query) Str(key string) string {
	q.used[key] = true
	vs := q.v[key]
	if len(vs) > 1 {
		q.Fail(key, strings.Join(vs, ","), errors.New("given more than once"))
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// List returns every value of a parameter that may repeat.
func (q *Query) List(key string) []string {
	q.used[key] = true
	return q.v[key]
}

// Fail records err as the bad value of key, unless one was recorded.
func (q *Query) Fail(key, value string, err error) {
	if q.err == nil {
		q.err = fmt.Errorf("parameter %s=%q: %w", key, value, err)
	}
}

// Bool reads true or false; absent is false.
func (q *Query) Bool(key string) bool {
	s := q.Str(key)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.Fail(key, s, errors.New("want true or false"))
	}
	return b
}

// Int reads a whole number, 0 or more; absent is 0.
func (q *Query) Int(key string) int {
	s := q.Str(key)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange) && n > 0:
		q.Fail(key, s, ErrTooLarge)
	case err != nil || n < 0:
		q.Fail(key, s, errors.New("want a whole number, 0 or more"))
	}
	return n
}

// ErrTooLarge refuses a number that does not fit an int here (above
// 2147483647 on a 32-bit platform) rather than wrapping it.
var ErrTooLarge = fmt.Errorf("too large for %s/%s, where the most is %d", runtime.GOOS, runtime.GOARCH, math.MaxInt)

// Duration reads a duration such as 500ms; absent is 0.
func (q *Query) Duration(key string) time.Duration {
	s := q.Str(key)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		q.Fail(key, s, errors.New("want a duration such as 500ms or 2s"))
	}
	return d
}

// Size reads a byte count as ParseSize does; absent is 0.
func (q *Query) Size(key string) int {
	s := q.Str(key)
	if s == "" {
		return 0
	}
	n, err := ParseSize(s)
	if err != nil {
		q.Fail(key, s, err)
	}
	return n
}

// ParseSize reads a byte count: a whole number with an optional KiB, MiB
// or GiB (or K, M, G) suffix. A count that does not fit an int is
// ErrTooLarge.
func ParseSize(s string) (int, error) {
	num, mult := s, 1
	for i, suffixes := range [][]string{{"KiB", "K"}, {"MiB", "M"}, {"GiB", "G"}} {
		for _, suf := range suffixes {
			if n, ok := strings.CutSuffix(s, suf); ok && num == s {
				num, mult = n, 1<<(10*(i+1))
			}
		}
	}
	n, err := strconv.Atoi(num)
	switch {
	case errors.Is(err, strconv.ErrRange) && n > 0, err == nil && n > math.MaxInt/mult:
		return 0, ErrTooLarge
	case err != nil || n < 0:
		return 0, errors.New("want a size such as 65536, 64KiB or 16MiB")
	}
	return n * mult, nil
}

// Level reads a slog level's name (with an optional +N or -N) or number;
// absent is nil.
func (q *Query) Level(key string) slog.Leveler {
	s := q.Str(key)
	if s == "" {
		return nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		if n, nerr := strconv.Atoi(s); nerr == nil {
			return slog.Level(n)
		}
		q.Fail(key, s, errors.New("want debug, info, warn, error (with an optional +N or -N) or a number"))
	}
	return l
}

// Done returns the first bad value, or else names a parameter that was
// never read: one scheme does not take.
func (q *Query) Done(scheme string) error {
	if q.err != nil {
		return q.err
	}
	var keys []string
	for k := range q.v {
		if !q.used[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	return fmt.Errorf("unknown parameter %q for %s", keys[0], scheme)
}
