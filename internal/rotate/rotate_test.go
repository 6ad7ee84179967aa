package rotate

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlog-go/netlog/receive"
)

// Several writers print numbered records through a receive.Printer (the
// file output of netlog serve) into a File that rotates every few KiB:
// every record is in exactly one file, whole, in order per writer.
func TestRotateBySizeUnderStream(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		sync     bool
		compress bool
	}{
		{"plain", 3000, false, false},
		{"sync+gzip", 400, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const writers = 4
			path := filepath.Join(t.TempDir(), "app.log")
			f := mustOpen(t, path, Config{MaxSize: 2 << 10, Compress: tc.compress})
			s := startStream(t, &receive.Printer{W: f, Sync: tc.sync}, writers, tc.n, 1)
			s.finish()
			settle(t, f)
			ps := pieces(t, path)
			s.check(ps)
			st := f.Stats()
			if st.Rotations < 10 || st.Rotations != uint64(len(ps)-1) {
				t.Errorf("%d rotations for %d files", st.Rotations, len(ps))
			}
			if tc.compress && st.Compressed != st.Rotations {
				t.Errorf("%d of %d rotated files compressed", st.Compressed, st.Rotations)
			}
		})
	}
}

// Writes of random sizes, some larger than MaxSize: each file holds whole
// writes, at most MaxSize bytes unless it holds a single larger write.
func TestRotateNeverSplitsAWrite(t *testing.T) {
	const maxSize = 1000
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{MaxSize: maxSize})
	rng := rand.New(rand.NewPCG(1, 2))
	var chunks []string
	for i := range 300 {
		head := fmt.Sprintf("chunk %d:", i)
		c := head + strings.Repeat("x", rng.IntN(3*maxSize)) + "\n"
		chunks = append(chunks, c)
		mustWrite(t, f, c)
	}
	next := 0
	for _, p := range pieces(t, path) {
		rest, count := string(p.data), 0
		for rest != "" {
			if next == len(chunks) || !strings.HasPrefix(rest, chunks[next]) {
				t.Fatalf("%s: at byte %d, want the whole of chunk %d", p.name, len(p.data)-len(rest), next)
			}
			rest, next, count = rest[len(chunks[next]):], next+1, count+1
		}
		if len(p.data) > maxSize && count > 1 {
			t.Errorf("%s: %d bytes in %d writes, over MaxSize %d", p.name, len(p.data), count, maxSize)
		}
	}
	if next != len(chunks) {
		t.Fatalf("found %d of %d chunks", next, len(chunks))
	}
}

func TestRotateByAge(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{MaxAge: time.Hour, now: c.now})
	mustWrite(t, f, "a\n")
	c.add(59 * time.Minute)
	mustWrite(t, f, "b\n")
	c.add(time.Minute)
	mustWrite(t, f, "c\n") // the file is an hour old: rotated before c
	c.add(30 * time.Minute)
	mustWrite(t, f, "d\n")
	ps := pieces(t, path)
	want := []piece{{path + "-20261201T113000Z", []byte("a\nb\n")}, {path, []byte("c\nd\n")}}
	if fmt.Sprintf("%q", ps) != fmt.Sprintf("%q", want) {
		t.Fatalf("files:\n%q\nwant\n%q", ps, want)
	}

}

// An empty file is not rotated when it is old: its age starts again at
// its first write.
func TestRotateByAgeEmpty(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{MaxAge: time.Hour, now: c.now})
	c.add(2 * time.Hour)
	mustWrite(t, f, "a\n")
	c.add(59 * time.Minute)
	mustWrite(t, f, "b\n")
	if got := string(readFile(t, path)); got != "a\nb\n" || f.Stats().Rotations != 0 {
		t.Fatalf("file %q after %d rotations; want \"a\\nb\\n\" and none", got, f.Stats().Rotations)
	}
	c.add(time.Minute)
	mustWrite(t, f, "c\n")
	if f.Stats().Rotations != 1 {
		t.Fatalf("%d rotations an hour after the first write, want 1", f.Stats().Rotations)
	}
}

// Rotations within one second get -1, -2, … and are listed in order.
func TestRotateSameSecond(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{MaxSize: 1, now: c.now})
	for i := range 12 {
		if i == 11 {
			c.add(-time.Hour) // a clock stepped back: the names still sort in order
		}
		mustWrite(t, f, strconv.Itoa(i))
	}
	ps := pieces(t, path)
	for i, p := range ps {
		want := path + "-20261201T103000Z"
		switch {
		case i == len(ps)-1:
			want = path
		case i > 0:
			want += "-" + strconv.Itoa(i)
		}
		if p.name != want || string(p.data) != strconv.Itoa(i) {
			t.Errorf("file %d: %s holding %q; want %s holding %q", i, p.name, p.data, want, strconv.Itoa(i))
		}
	}
}

func TestKeep(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			other := filepath.Join(dir, "app.log-notes") // not a rotated file's name: never removed
			os.WriteFile(other, []byte("mine"), 0o600)
			f := mustOpen(t, path, Config{MaxSize: 1, Keep: 3, Compress: compress})
			for i := range 10 {
				mustWrite(t, f, strconv.Itoa(i))
				if i%4 == 0 {
					settle(t, f) // some passes see one rotation, some several
				}
			}
			settle(t, f)
			var got []string
			for _, p := range pieces(t, path) {
				if strings.HasSuffix(p.name, gzExt) != compress && p.name != path {
					t.Errorf("%s: compressed is %v, want %v", p.name, !compress, compress)
				}
				got = append(got, string(p.data))
			}
			if strings.Join(got, " ") != "6 7 8 9" {
				t.Errorf("kept %q, want the newest 3 rotated and the live one: 6 7 8 9", got)
			}
			if st := f.Stats(); st.Removed != 6 || st.RemoveFailures != 0 {
				t.Errorf("stats %+v, want 6 removed", st)
			}
			if _, err := os.Stat(other); err != nil {
				t.Errorf("a file not rotated was removed: %v", err)
			}
		})
	}
}

// Compressed rotated files gunzip to exactly what was written, carry the
// original's name for gunzip -N, and keep its permissions.
func TestCompress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{MaxSize: 64 << 10, Compress: true, Mode: 0o600})
	var all bytes.Buffer
	for i := range 5000 {
		line := fmt.Sprintf("line %d %s\n", i, strings.Repeat("abc", i%40))
		all.WriteString(line)
		mustWrite(t, f, line)
	}
	settle(t, f)
	var got []byte
	ps := pieces(t, path)
	for _, p := range ps[:len(ps)-1] {
		if !strings.HasSuffix(p.name, gzExt) {
			t.Errorf("%s is not compressed", p.name)
		}
		if st, err := os.Stat(p.name); err != nil || st.Mode().Perm()&^0o600 != 0 {
			t.Errorf("%s: mode %v, %v; want at most 0600", p.name, st.Mode(), err)
		}
		got = append(got, p.data...)
	}
	got = append(got, ps[len(ps)-1].data...)
	if !bytes.Equal(got, all.Bytes()) {
		t.Fatalf("read back %d bytes, wrote %d; differ", len(got), all.Len())
	}
	if st := f.Stats(); st.Compressed != st.Rotations || st.Rotations < 3 || st.CompressFailures != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// What a crash leaves: a partial .gz.tmp beside its original (compressed
// again), a complete .gz beside its original (the original removed), an
// uncompressed file (compressed). Open finishes each.
func TestCompressAfterCrash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	a, b, c := path+"-20261201T100000Z", path+"-20261201T100100Z", path+"-20261201T100200Z"
	os.WriteFile(a, []byte("records of a\n"), 0o640)
	os.WriteFile(a+tmpExt, []byte("\x1f\x8b partial"), 0o640)
	os.WriteFile(b, []byte("records of b\n"), 0o640)
	gzipTo(t, b+gzExt, "records of b\n")
	os.WriteFile(c, []byte("records of c\n"), 0o640)
	f := mustOpen(t, path, Config{Compress: true})
	settle(t, f)
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "app.log app.log-20261201T100000Z.gz app.log-20261201T100100Z.gz app.log-20261201T100200Z.gz"
	if strings.Join(names, " ") != want {
		t.Fatalf("files %q, want %s", names, want)
	}
	for _, n := range []string{"a", "b", "c"} {
		p := map[string]string{"a": a, "b": b, "c": c}[n] + gzExt
		if got := string(readFile(t, p)); got != "records of "+n+"\n" {
			t.Errorf("%s holds %q", p, got)
		}
	}
}

// gzipTo writes s gzipped to name.
func gzipTo(t *testing.T, name, s string) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	if err := os.WriteFile(name, b.Bytes(), 0o640); err != nil {
		t.Fatal(err)
	}
}

// An external rotation: mv, then Reopen (netlog serve's SIGHUP). What was
// written before the Reopen is in the moved file, the rest in the new one.
func TestReopenAfterRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{})
	mustWrite(t, f, "1\n")
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "2\n") // still the open file, as for any daemon before its SIGHUP
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "3\n")
	if old, cur := readFile(t, path+".old"), readFile(t, path); string(old) != "1\n2\n" || string(cur) != "3\n" {
		t.Fatalf("moved file %q, new file %q; want \"1\\n2\\n\", \"3\\n\"", old, cur)
	}
}

// Writers stream through a Printer while the file is moved away and
// reopened, over and over: every record is in exactly one file, in order,
// and those written after a Reopen in the new file.
func TestReopenUnderStream(t *testing.T) {
	const writers, moves = 3, 20
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{})
	s := startStream(t, &receive.Printer{W: f}, writers, 100*(moves+1), moves+1)
	var ps []piece
	for k := range moves {
		s.midPhase(k)
		name := fmt.Sprintf("%s.%02d", path, k)
		if err := os.Rename(path, name); err != nil {
			t.Fatal(err)
		}
		if err := f.Reopen(); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, piece{name: name})
		s.next(k)
	}
	s.finish()
	for i := range ps {
		ps[i].data = readFile(t, ps[i].name)
	}
	s.check(append(ps, piece{path, readFile(t, path)}))
	if got := f.Stats().Reopens; got != moves {
		t.Errorf("%d reopens, want %d", got, moves)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	os.WriteFile(notDir, nil, 0o600)
	type errCase struct {
		path, want string
		is         error
	}
	cases := []errCase{
		{filepath.Join(dir, "missing", "app.log"), "its directory " + filepath.Join(dir, "missing") + " does not exist", fs.ErrNotExist},
		{filepath.Join(notDir, "app.log"), "cannot open " + filepath.Join(notDir, "app.log"), nil},
		{dir, "cannot open " + dir, nil},
	}
	if runtime.GOOS != "windows" && os.Geteuid() != 0 { // permissions do not stop root
		readOnly := filepath.Join(dir, "ro")
		os.Mkdir(readOnly, 0o500)
		cases = append(cases, errCase{filepath.Join(readOnly, "app.log"), "cannot open " + filepath.Join(readOnly, "app.log") + " for appending: permission denied", fs.ErrPermission})
	}
	for _, tc := range cases {
		_, err := Open(tc.path, Config{MaxSize: 1 << 20, Keep: 1})
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("Open(%s) = %v, want an error saying %q", tc.path, err, tc.want)
		}
	}
}

// A File whose path cannot be opened again (its directory gone) fails
// the Write, and recovers at the first Write after the directory is back.
func TestWriteAfterFailedReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	os.Mkdir(dir, 0o700)
	path := filepath.Join(dir, "app.log")
	f := mustOpen(t, path, Config{})
	mustWrite(t, f, "1\n")
	os.RemoveAll(dir)
	if err := f.Reopen(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Reopen with the directory gone: %v", err)
	}
	if _, err := f.Write([]byte("lost\n")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Write with the directory gone: %v", err)
	}
	os.Mkdir(dir, 0o700)
	mustWrite(t, f, "2\n")
	if got := string(readFile(t, path)); got != "2\n" {
		t.Fatalf("file holds %q", got)
	}
}

func TestClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{Keep: 1})
	mustWrite(t, f, "1\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("2\n")); !errors.Is(err, os.ErrClosed) || !strings.Contains(err.Error(), path) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Sync after Close: %v", err)
	}
	if err := f.Settle(t.Context()); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Settle after Close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A rotation that cannot rename (here: the directory is gone) is counted
// and reported; the path is written again once it can be.
func TestRotateFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	os.Mkdir(dir, 0o700)
	path := filepath.Join(dir, "app.log")
	var reported []error
	f := mustOpen(t, path, Config{MaxSize: 1, OnError: func(err error) { reported = append(reported, err) }})
	mustWrite(t, f, "1")
	os.RemoveAll(dir)
	if _, err := f.Write([]byte("2")); err == nil {
		t.Fatal("Write with the directory gone succeeded")
	}
	if st := f.Stats(); st.RotateFailures != 1 || len(reported) < 1 || !strings.Contains(reported[0].Error(), path) {
		t.Fatalf("stats %+v, reported %v", st, reported)
	}
}

// Sync after a rotation syncs the directory too (what it can be seen to
// do here: succeed), and Stats counts bytes.
func TestSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{MaxSize: 6})
	for _, s := range []string{"abc", "def", "gh"} {
		mustWrite(t, f, s)
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if st := f.Stats(); st.Bytes != 8 || st.Rotations != 1 {
		t.Fatalf("stats %+v, want 8 bytes, 1 rotation", st)
	}
}

// An existing file is appended to, and its size counts toward MaxSize.
func TestAppendToExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	os.WriteFile(path, []byte("old\n"), 0o600)
	f := mustOpen(t, path, Config{MaxSize: 6})
	mustWrite(t, f, "new\n")
	if ps := pieces(t, path); len(ps) != 2 || string(ps[0].data) != "old\n" || string(ps[1].data) != "new\n" {
		t.Fatalf("files %q", ps)
	}
}

// A compression that fails keeps the original, counted and reported;
// the next pass tries again.
func TestCompressFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	name := path + "-20261201T100000Z"
	os.WriteFile(name, []byte("records\n"), 0o640)
	os.Mkdir(name+tmpExt, 0o700) // in the way of the .gz.tmp
	var mu sync.Mutex
	var reported []error
	f := mustOpen(t, path, Config{Compress: true, OnError: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, err)
	}})
	if err := f.Settle(t.Context()); err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("Settle: %v, want an error naming %s", err, name)
	}
	mu.Lock()
	if st := f.Stats(); st.CompressFailures < 1 || len(reported) != int(st.CompressFailures) {
		t.Errorf("stats %+v, %d reported", st, len(reported))
	}
	mu.Unlock()
	if got := string(readFile(t, name)); got != "records\n" {
		t.Fatalf("original holds %q", got)
	}
	os.Remove(name + tmpExt)
	settle(t, f)
	if got := string(readFile(t, name+gzExt)); got != "records\n" {
		t.Fatalf("compressed on the next pass: %q", got)
	}
}

// A compression cut short by Close is no failure: its .gz.tmp is
// removed, the original kept for the next Open.
func TestCompressAbandoned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	name := path + "-20261201T100000Z"
	os.WriteFile(name, []byte("records\n"), 0o640)
	f := mustOpen(t, path, Config{})
	tz := &tidier{f: f, buf: make([]byte, 4096)}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := tz.compress(ctx, name); err != nil {
		t.Fatalf("abandoned compression: %v", err)
	}
	if st := f.Stats(); st.CompressFailures != 0 || st.Compressed != 0 {
		t.Errorf("stats %+v", st)
	}
	if !free(name+tmpExt) || !free(name+gzExt) || string(readFile(t, name)) != "records\n" {
		t.Fatal("an abandoned compression left a .gz or .gz.tmp, or lost the original")
	}
}
