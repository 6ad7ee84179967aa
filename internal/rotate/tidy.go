package rotate

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// tidier is a File's background work: removing the rotated files beyond
// Keep and compressing the others, one file at a time, in one goroutine,
// so that compression costs at most one core and a removal never races
// with a compression of the same file. Each pass reads the directory
// afresh, so the same pass that handles a rotation also finishes what a
// crash left. Its methods do nothing on a nil tidier.
type tidier struct {
	f       *File
	kickc   chan struct{}   // a rotation happened; holds one, so kicks coalesce
	settlec chan chan error // Settle's requests
	cancel  context.CancelFunc
	done    chan struct{} // closed when run returns

	zw  *gzip.Writer // reused from file to file
	buf []byte
}

func startTidier(f *File) *tidier {
	ctx, cancel := context.WithCancel(context.Background())
	t := &tidier{f: f, kickc: make(chan struct{}, 1), settlec: make(chan chan error),
		cancel: cancel, done: make(chan struct{}), buf: make([]byte, 64<<10)}
	t.kick() // for what a crash or Close left undone
	go t.run(ctx)
	return t
}

func (t *tidier) kick() {
	if t == nil {
		return
	}
	select {
	case t.kickc <- struct{}{}:
	default: // a pass is due already, and will see this rotation too
	}
}

// stop ends the background work, abandoning a compression in progress.
func (t *tidier) stop() {
	if t == nil {
		return
	}
	t.cancel()
	<-t.done
}

// settle asks for a pass and waits for it.
func (t *tidier) settle(ctx context.Context) error {
	if t == nil {
		return nil
	}
	reply := make(chan error, 1)
	select {
	case t.settlec <- reply:
	case <-t.done:
		return fmt.Errorf("rotate: %s: %w", t.f.path, os.ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("rotate: %s: waiting for compression: %w", t.f.path, ctx.Err())
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("rotate: %s: waiting for compression: %w", t.f.path, ctx.Err())
	}
}

func (t *tidier) run(ctx context.Context) {
	defer close(t.done)
	for {
		var reply chan error
		select {
		case <-ctx.Done():
			return
		case <-t.kickc:
		case reply = <-t.settlec:
		}
		err := t.pass(ctx)
		if reply != nil {
			reply <- err
		}
	}
}

// pass removes the rotated files beyond Keep, oldest first, and tidies
// the others; it returns what failed, each failure counted and reported.
func (t *tidier) pass(ctx context.Context) error {
	files, err := list(t.f.path)
	if err != nil {
		t.f.report(err)
		return err
	}
	var errs []error
	for i, r := range files {
		if ctx.Err() != nil {
			break
		}
		if keep := t.f.cfg.Keep; keep > 0 && i < len(files)-keep {
			errs = append(errs, t.drop(r))
		} else {
			errs = append(errs, t.tidy(ctx, r))
		}
	}
	return errors.Join(errs...)
}

// drop removes a rotated file beyond Keep, in every form it has.
func (t *tidier) drop(r *rotated) error {
	err := errors.Join(t.remove(r.plain, r.name), t.remove(r.gz, r.name+gzExt), t.remove(r.tmp, r.name+tmpExt))
	if err == nil {
		t.f.removed.Add(1)
	}
	return err
}

// tidy finishes a compression a crash cut short and compresses a file
// not yet compressed. A .gz.tmp is never complete (a complete one is
// renamed at once), so the original is still there and is compressed
// again; a .gz beside the original is complete (it is renamed only once
// synced), so the original goes.
func (t *tidier) tidy(ctx context.Context, r *rotated) error {
	err := t.remove(r.tmp, r.name+tmpExt)
	switch {
	case r.plain && r.gz:
		err = errors.Join(err, t.remove(true, r.name))
	case r.plain && t.f.cfg.Compress:
		err = errors.Join(err, t.compress(ctx, r.name))
	}
	return err
}

// remove removes name if exists says it does; a failure is counted and
// reported.
func (t *tidier) remove(exists bool, name string) error {
	if !exists {
		return nil
	}
	if err := os.Remove(name); err != nil {
		err = fmt.Errorf("rotate: removing %s: %w", name, bare(err))
		t.f.removeFailures.Add(1)
		t.f.report(err)
		return err
	}
	return nil
}

// compress replaces name by name.gz; a failure is counted and reported,
// and the original kept. One cut short by Close is no failure: the next
// Open does it again.
func (t *tidier) compress(ctx context.Context, name string) error {
	err := t.gzip(ctx, name)
	switch {
	case err == nil:
		t.f.compressed.Add(1)
	case ctx.Err() != nil:
		return nil
	default:
		err = fmt.Errorf("rotate: compressing %s: %w", name, err)
		t.f.compressFailures.Add(1)
		t.f.report(err)
	}
	return err
}

// gzip writes name.gz.tmp, syncs it, renames it name.gz, syncs the
// directory and only then removes name: at every point of a crash, the
// records are in name or in a complete name.gz.
func (t *tidier) gzip(ctx context.Context, name string) error {
	src, err := os.Open(name)
	if err != nil {
		return bare(err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return bare(err)
	}
	tmp := name + tmpExt
	if err := t.write(ctx, tmp, src, st); err != nil {
		return err
	}
	if err := os.Rename(tmp, name+gzExt); err != nil {
		os.Remove(tmp)
		return bare(err)
	}
	if err := syncDir(filepath.Dir(name)); err != nil {
		return err // both are kept; the next pass removes the original
	}
	return bare(os.Remove(name))
}

// write writes src gzipped to a new file tmp, synced, or removes it.
func (t *tidier) write(ctx context.Context, tmp string, src *os.File, st os.FileInfo) error {
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return bare(err) // something else's: left alone
	}
	if t.zw == nil {
		t.zw = gzip.NewWriter(dst)
	} else {
		t.zw.Reset(dst)
	}
	t.zw.Name, t.zw.ModTime = filepath.Base(src.Name()), st.ModTime() // what gunzip -N restores
	_, err = io.CopyBuffer(t.zw, ctxReader{ctx, src}, t.buf)
	if err == nil {
		err = t.zw.Close()
	}
	if err == nil {
		err = dst.Sync()
	}
	if err = errors.Join(bare(err), bare(dst.Close())); err != nil {
		os.Remove(tmp) // never complete: the original stays
	}
	return err
}

// ctxReader ends a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
