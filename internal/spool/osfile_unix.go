//go:build unix

package spool

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps f's first size bytes shared and read-write: a store into
// the slice is in the kernel's page cache at once, so it reaches the file
// even if the process is killed the next instant.
func mapFile(f *os.File, size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("durable queue: map %s: size %d", f.Name(), size)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("durable queue: map %s: %w", f.Name(), err)
	}
	return b, nil
}

// unmapFile undoes mapFile; b must not be used after.
func unmapFile(b []byte) error {
	if b == nil {
		return nil
	}
	return unix.Munmap(b)
}

// flushMap writes the mapping b's dirty pages to its file (on Linux the
// datasync after it would do that too, but not on every Unix).
func flushMap(b []byte) error {
	if b == nil {
		return nil
	}
	return unix.Msync(b, unix.MS_SYNC)
}

// lockFile takes an fcntl write lock on all of f, without waiting. fcntl
// locks exist on every unix (flock does not on aix and solaris) and the
// kernel drops them when the process dies, even by SIGKILL. Another
// holder makes it fail with EAGAIN or EACCES (POSIX allows either).
func lockFile(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK} // Whence 0, Start 0, Len 0: the whole file
	err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return errLocked
	}
	return err
}

// unlockFile drops lockFile's lock (closing f would too; this says so).
func unlockFile(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK}
	return unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
}

// syncDir flushes dir's entries, so that a new segment file's name
// survives a power loss as its contents do.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
