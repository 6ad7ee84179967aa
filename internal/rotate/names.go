package rotate

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The parts of a rotated file's name: PATH-STAMP[-SEQ][.gz[.tmp]].
const (
	stampLayout = "20060102T150405Z" // UTC, so that names sort by time across DST changes
	gzExt       = ".gz"
	tmpExt      = ".gz.tmp" // a compression in progress, renamed to .gz once complete
	maxTries    = 1000      // names taken by files of the same second, at most
)

// position is where a rotated file stands in the order of rotation: the
// second it was rotated in (UTC), and its sequence number in that second.
type position struct {
	stamp time.Time
	seq   int
}

// name returns the rotated file's name for path: PATH-STAMP, or
// PATH-STAMP-SEQ after the first in a second.
func (p position) name(path string) string {
	name := path + "-" + p.stamp.Format(stampLayout)
	if p.seq > 0 {
		name += "-" + strconv.Itoa(p.seq)
	}
	return name
}

func (p position) compare(q position) int {
	return cmp.Or(p.stamp.Compare(q.stamp), cmp.Compare(p.seq, q.seq))
}

// next returns the position of a file rotated at t after one at last:
// t's second, or, if last's is not before it (a rotation in the same
// second, or the clock stepped back), last's with the next sequence
// number, so that the names sort in the order the files were rotated. A
// name some file holds already (compressed or not) is skipped.
func next(path string, last position, t time.Time) (position, error) {
	p := position{stamp: t.UTC().Truncate(time.Second)}
	if !p.stamp.After(last.stamp) {
		p = position{last.stamp, last.seq + 1}
	}
	for range maxTries {
		name := p.name(path)
		if free(name) && free(name+gzExt) && free(name+tmpExt) {
			return p, nil
		}
		p.seq++
	}
	return position{}, fmt.Errorf("rotate: %s: no free name for a rotated file up to %s", path, p.name(path))
}

// free reports whether nothing has the name; an error other than "does
// not exist" counts as taken.
func free(name string) bool {
	_, err := os.Lstat(name)
	return errors.Is(err, fs.ErrNotExist)
}

// rotated is one file rotated from the path, in whichever of its forms
// exist: plain, compressed, being compressed (or left so by a crash).
type rotated struct {
	position
	name           string // PATH-STAMP[-SEQ]
	plain, gz, tmp bool
}

// list returns the files rotated from path, oldest first. Only regular
// files whose names have the form of a rotated file are listed, so that
// nothing else in the directory is ever compressed or removed.
func list(path string) ([]*rotated, error) {
	dir, prefix := filepath.Dir(path), filepath.Base(path)+"-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("rotate: listing the rotated files of %s: %w", path, bare(err))
	}
	byName := map[string]*rotated{}
	var files []*rotated
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		rest, tmp := strings.CutSuffix(rest, tmpExt)
		rest, gz := strings.CutSuffix(rest, gzExt)
		pos, ok := parseSuffix(rest)
		if !ok || (tmp && gz) {
			continue
		}
		name := filepath.Join(dir, prefix+rest)
		r := byName[name]
		if r == nil {
			r = &rotated{position: pos, name: name}
			byName[name] = r
			files = append(files, r)
		}
		r.tmp, r.gz, r.plain = r.tmp || tmp, r.gz || gz, r.plain || (!tmp && !gz)
	}
	slices.SortFunc(files, func(a, b *rotated) int { return a.compare(b.position) })
	return files, nil
}

// parseSuffix reads STAMP[-SEQ].
func parseSuffix(s string) (position, bool) {
	if len(s) < len(stampLayout) {
		return position{}, false
	}
	stamp, err := time.Parse(stampLayout, s[:len(stampLayout)])
	if err != nil {
		return position{}, false
	}
	if s = s[len(stampLayout):]; s == "" {
		return position{stamp, 0}, true
	}
	n, ok := strings.CutPrefix(s, "-")
	seq, err := strconv.Atoi(n)
	if !ok || err != nil || seq < 1 || strconv.Itoa(seq) != n {
		return position{}, false
	}
	return position{stamp, seq}, true
}
