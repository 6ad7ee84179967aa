package spool

import (
	"errors"
	"fmt"
	"os"
)

// The OS layer under the durable queue: files whose blocks are reserved
// before use, shared mappings of them, flushes, and a lock per directory.
// Each platform's half is in osfile_GOOS.go; what they share is here.

// errNoMap is mapFile's answer where files cannot be mapped (where, too,
// lockDir refuses the directory first).
var errNoMap = errors.New("durable queue: memory-mapped files are not supported on this platform")

// errLocked is in lockDir's error when another holder has the directory.
var errLocked = errors.New("durable queue: directory in use")

// zeroChunk is what zeroFill writes at a time: large enough that a
// segment takes few writes, small enough to cost nothing on the heap.
var zeroChunk [64 << 10]byte

// allocFile makes f exactly size bytes long with its blocks written, so
// that a later store into a mapping of it cannot fault (SIGBUS) on a full
// disk: the disk-full error comes here instead. It writes zeros, f's old
// contents are lost: it is meant for a new segment. Not fallocate: on
// ext4 the blocks it reserves are "unwritten", and each page's first
// store through a mapping then converts its extent in the journal; that
// made storing a record cost 1.5-2 µs instead of 0.4, and removing a
// spent segment 20 ms instead of 4 (2026-12-01, this project's VM).
func allocFile(f *os.File, size int) error {
	if size < 0 {
		return fmt.Errorf("durable queue: allocate %s: negative size %d", f.Name(), size)
	}
	err := zeroFill(f, size)
	if err == nil {
		err = f.Truncate(int64(size)) // zeroFill only grows f; a longer file is cut
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
	if err == nil && (b == nil || !mapSyncsFile) {
		err = datasync(f)
	}
	if err != nil {
		return fmt.Errorf("durable queue: sync %s: %w", f.Name(), err)
	}
	return nil
}

// zeroFill writes zeros over f's first size bytes, making the filesystem
// allocate every block now (a sparse file, as Truncate makes, would
// allocate them on first store).
func zeroFill(f *os.File, size int) error {
	for off := 0; off < size; off += len(zeroChunk) {
		n := min(len(zeroChunk), size-off)
		if _, err := f.WriteAt(zeroChunk[:n], int64(off)); err != nil {
			return err
		}
	}
	return nil
}
