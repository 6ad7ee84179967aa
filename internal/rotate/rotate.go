// Package rotate is the file output of netlog serve: a log file that is
// only appended to, rotates itself by size and/or age, keeps a number of
// rotated files, compresses them with gzip in the background, and reopens
// its path when told to (SIGHUP after an external rotation).
//
// A rotated file is renamed to the path plus the time of its rotation in
// UTC, app.log-20261201T103000Z (then app.log-20261201T103000Z.gz once
// compressed): logrotate's "dateext" naming with the time of day added,
// since rotation by size may happen many times a day. A rotated file keeps
// its name for good — nothing is renamed again — so compression never
// races with a rotation, a crash in the middle of one leaves no gap or
// double in a numbered sequence, and the names sort in the order the
// files were written. A second rotation within the same second adds -1,
// -2, … to the name.
package rotate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Config says when a File rotates and what becomes of rotated files. The
// zero Config never rotates.
type Config struct {
	// MaxSize rotates the file before a Write that would take it past
	// MaxSize bytes; a Write is never split, so a Write larger than
	// MaxSize goes whole into a fresh file. 0 means no limit.
	MaxSize int64
	// MaxAge rotates the file at the first Write once it has been open
	// that long (since it was created, or opened by Open or Reopen). No
	// Write, no rotation: no timer runs. 0 means no limit.
	MaxAge time.Duration
	// Keep is how many rotated files are kept: the oldest beyond it are
	// removed. 0 keeps every one.
	Keep int
	// Compress gzips each rotated file, in the background, one at a time.
	Compress bool
	// Mode is the permission a created file gets (less the umask); 0
	// means 0640: readable by the owner's group but not the world, as
	// Debian's rsyslog.conf sets ($FileCreateMode 0640, $FileGroup adm).
	Mode fs.FileMode
	// OnError, if not nil, is told of each failure that no Write returns:
	// a rotation that failed (the file goes on growing), a rotated file
	// that could not be compressed or removed. Each is counted in Stats
	// too. It is called from the background work and during a Write,
	// possibly at once, so it must be safe for concurrent use, call none
	// of the File's methods, and not block for long.
	OnError func(error)

	now func() time.Time // the clock; nil is time.Now (tests set it)
}

// DefaultMode is the permission of a created file when Config.Mode is 0.
const DefaultMode fs.FileMode = 0o640

// Stats counts what a File did since Open.
type Stats struct {
	Bytes            uint64 // written by Write
	Rotations        uint64 // files rotated
	RotateFailures   uint64 // rotations that failed: the file was kept
	Reopens          uint64 // calls of Reopen
	Compressed       uint64 // rotated files compressed
	CompressFailures uint64 // rotated files that failed to compress (kept uncompressed)
	Removed          uint64 // rotated files removed beyond Keep
	RemoveFailures   uint64 // rotated files that could not be removed
}

// File is a log file opened by Open. Its methods are safe for concurrent
// use. Write, Sync and Reopen are serialised, so one Write's bytes are
// never interleaved with another's.
type File struct {
	path string
	cfg  Config

	mu       sync.Mutex
	f        *os.File // nil after a failed reopen: the next Write tries again
	size     int64    // of f
	opened   time.Time
	dirDirty bool     // a rotation or Reopen since the last Sync changed the directory
	last     position // of the newest rotated file
	closed   bool

	bytes, rotations, rotateFailures, reopens             atomic.Uint64
	compressed, compressFailures, removed, removeFailures atomic.Uint64

	tidy *tidier // nil when there is no background work: no Keep, no Compress
}

// Open opens path for appending, creating it if need be (its directory
// must exist), and starts the background work cfg asks for: it also
// finishes what a crash or Close left undone — compressing the rotated
// files not yet compressed, removing those beyond Keep.
func Open(path string, cfg Config) (*File, error) {
	switch {
	case path == "":
		return nil, errors.New("rotate: no path")
	case cfg.MaxSize < 0, cfg.MaxAge < 0, cfg.Keep < 0:
		return nil, fmt.Errorf("rotate: %s: negative max-size, max-age or keep", path)
	}
	if cfg.Mode == 0 {
		cfg.Mode = DefaultMode
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	f := &File{path: filepath.Clean(path), cfg: cfg}
	if err := f.openLocked(); err != nil {
		return nil, err
	}
	if cfg.MaxSize > 0 || cfg.MaxAge > 0 { // the next rotated file comes after those there
		files, err := list(f.path)
		if err != nil {
			f.f.Close()
			return nil, err
		}
		if len(files) > 0 {
			f.last = files[len(files)-1].position
		}
	}
	if cfg.Keep > 0 || cfg.Compress {
		f.tidy = startTidier(f)
	}
	return f, nil
}

// Path returns the path the File writes to.
func (f *File) Path() string { return f.path }

// Write appends p to the file, rotating it first if p would take it past
// MaxSize or the file is older than MaxAge. p goes whole into one file.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.readyLocked(); err != nil {
		return 0, err
	}
	if len(p) > 0 && f.dueLocked(int64(len(p))) {
		f.rotateLocked()
		if err := f.readyLocked(); err != nil { // the path anew
			return 0, err
		}
	}
	n, err := f.f.Write(p)
	f.size += int64(n)
	f.bytes.Add(uint64(n))
	if err != nil {
		return n, fmt.Errorf("rotate: writing %s: %w", f.path, bare(err))
	}
	return n, nil
}

// readyLocked makes sure a file is open: after a rotation or Reopen that
// could not open the path, the next Write tries again.
func (f *File) readyLocked() error {
	switch {
	case f.closed:
		return fmt.Errorf("rotate: %s: %w", f.path, os.ErrClosed)
	case f.f == nil:
		return f.openLocked()
	}
	return nil
}

// dueLocked reports whether the file must rotate before n more bytes. An
// empty file never rotates: a Write larger than MaxSize goes into it
// whole, and an old empty file just starts its age anew.
func (f *File) dueLocked(n int64) bool {
	old := f.cfg.MaxAge > 0 && f.cfg.now().Sub(f.opened) >= f.cfg.MaxAge
	if f.size == 0 {
		if old {
			f.opened = f.cfg.now()
		}
		return false
	}
	return old || (f.cfg.MaxSize > 0 && f.size+n > f.cfg.MaxSize)
}

// rotateLocked closes the file and renames it to its rotated name; the
// Write that asked for it then opens the path anew. The file is closed
// before the rename, as Windows requires. A failure is counted and
// reported, not returned: the path is opened again and goes on growing,
// rather than the output stopping.
func (f *File) rotateLocked() {
	pos, err := next(f.path, f.last, f.cfg.now())
	if err == nil {
		err = f.closeLocked()
	}
	if err == nil {
		if err = os.Rename(f.path, pos.name(f.path)); err != nil {
			err = fmt.Errorf("rotate: renaming %s to %s: %w", f.path, filepath.Base(pos.name(f.path)), bare(err))
		}
	}
	if err != nil {
		f.rotateFailures.Add(1)
		f.report(err)
		return
	}
	f.rotations.Add(1)
	f.dirDirty, f.last = true, pos
	f.tidy.kick()
}

// openLocked opens the path for appending, creating it if need be.
func (f *File) openLocked() error {
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, f.cfg.Mode)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate: cannot create %s: its directory %s does not exist: %w", f.path, filepath.Dir(f.path), bare(err))
		}
		return fmt.Errorf("rotate: cannot open %s for appending: %w", f.path, bare(err))
	}
	st, err := file.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("rotate: %s is not a regular file (%v)", f.path, st.Mode().Type())
	} else if err != nil {
		err = fmt.Errorf("rotate: %s: %w", f.path, bare(err))
	}
	if err != nil {
		file.Close()
		return err
	}
	f.f, f.size, f.opened = file, st.Size(), f.cfg.now()
	return nil
}

// closeLocked closes the file, if one is open.
func (f *File) closeLocked() error {
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	if err != nil {
		return fmt.Errorf("rotate: closing %s: %w", f.path, bare(err))
	}
	return nil
}

// Sync commits the file to disk (fsync) and, after a rotation or Reopen,
// the directory too, so that the rename and the new file survive a crash.
// A batch acknowledged after Sync is on disk.
func (f *File) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.readyLocked(); err != nil {
		return err
	}
	if err := f.f.Sync(); err != nil {
		return fmt.Errorf("rotate: syncing %s: %w", f.path, bare(err))
	}
	if f.dirDirty {
		if err := syncDir(filepath.Dir(f.path)); err != nil {
			return err
		}
		f.dirDirty = false
	}
	return nil
}

// Reopen closes the file and opens its path again, creating it if it is
// gone: after an external rotation (mv app.log app.log.1, then SIGHUP),
// what was written before lies in the moved file and what is written next
// goes to a new one. A file that cannot be opened now is tried again by
// the next Write.
func (f *File) Reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("rotate: %s: %w", f.path, os.ErrClosed)
	}
	f.reopens.Add(1)
	f.dirDirty = true
	return errors.Join(f.closeLocked(), f.openLocked())
}

// Close closes the file and stops the background work. A compression in
// progress is abandoned (its partial .gz.tmp removed) and done again by
// the next Open, so that Close never waits on a large file.
func (f *File) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	err := f.closeLocked()
	f.mu.Unlock()
	f.tidy.stop()
	return err
}

// Settle waits until the background work has caught up with every
// rotation so far — rotated files compressed, those beyond Keep removed —
// and returns what failed in it, or ctx's error if ctx ends first. It is
// for a shutdown that wants compression done before Close.
func (f *File) Settle(ctx context.Context) error {
	return f.tidy.settle(ctx)
}

// Stats returns the File's counters.
func (f *File) Stats() Stats {
	return Stats{
		Bytes: f.bytes.Load(), Rotations: f.rotations.Load(), RotateFailures: f.rotateFailures.Load(),
		Reopens: f.reopens.Load(), Compressed: f.compressed.Load(), CompressFailures: f.compressFailures.Load(),
		Removed: f.removed.Load(), RemoveFailures: f.removeFailures.Load(),
	}
}

func (f *File) report(err error) {
	if f.cfg.OnError != nil {
		f.cfg.OnError(err)
	}
}

// bare drops the *fs.PathError around an error, whose path the message
// names already.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
