package spool

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// reserve allocates f's first size bytes with fallocate: one call, no
// data written, and ENOSPC at once on a full disk. Filesystems without
// it (some network and FUSE ones) say EOPNOTSUPP: allocFile then writes
// zeros.
func reserve(f *os.File, size int) error {
	if size == 0 {
		return nil // fallocate rejects an empty range
	}
	err := unix.Fallocate(int(f.Fd()), 0, 0, int64(size))
	if errors.Is(err, unix.EOPNOTSUPP) {
		return errors.ErrUnsupported
	}
	return err
}

// datasync flushes f's data and the metadata needed to read it back
// (its size), but not its times: cheaper than fsync, as safe for a queue.
func datasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
