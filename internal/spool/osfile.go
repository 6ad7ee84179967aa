package spool

import (
	"errors"
	"fmt"
	"os"
)

// The OS layer under the durable queue: files whose blocks are reserved
// before use, shared mappings of them, flushes, and a lock per directory.
// Each platform's half is in osfile_GOOS.go; what they share is here.

// errNoMap is mapFile's answer where files cannot be mapped: the queue
// then keeps a copy on the heap and writes it with WriteAt.
var errNoMap = errors.New("durable queue: memory-mapped files are not supported on this platform")

// errLocked is in lockDir's error when another holder has the directory.
var errLocked = errors.New("durable queue: directory in use")

// zeroChunk is what zeroFill writes at a time: large enough that a
// segment takes few writes, small enough to cost nothing on the heap.
var zeroChunk [64 << 10]byte

// allocFile makes f exactly size bytes long with its blocks reserved on
// disk, so that a later store into a mapping of it cannot fault (SIGBUS)
// on a full disk: the disk-full error comes here instead. Where the
// blocks are reserved by writing zeros, f's old contents are lost: it is
// meant for a new segment.
func allocFile(f *os.File, size int) error {
	if size < 0 {
		return fmt.Errorf("durable queue: allocate %s: negative size %d", f.Name(), size)
	}
	err := reserve(f, size)
	if errors.Is(err, errors.ErrUnsupported) {
		err = zeroFill(f, size)
	}
	if err == nil {
		// reserve and zeroFill only grow f; a longer file is cut.
		err = f.Truncate(int64(size))
	}
	if err != nil {
		return fmt.Errorf("durable queue: allocate %d bytes for %s: %w", size, f.Name(), err)
	}
	return nil
}

// syncFile flushes to stable storage the mapping b of f (from mapFile;
// nil if none), then f's data.
func syncFile(f *os.File, b []byte) error {
	err := flushMap(b)
	if err == nil {
		err = datasync(f)
	}
	if err != nil {
		return fmt.Errorf("durable queue: sync %s: %w", f.Name(), err)
	}
	return nil
}

// zeroFill writes zeros over f's first size bytes: the portable way to
// make a filesystem allocate every block now (a sparse file, as Truncate
// makes, would allocate them on first store).
func zeroFill(f *os.File, size int) error {
	for off := 0; off < size; off += len(zeroChunk) {
		n := min(len(zeroChunk), size-off)
		if _, err := f.WriteAt(zeroChunk[:n], int64(off)); err != nil {
			return err
		}
	}
	return nil
}
