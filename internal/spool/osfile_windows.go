package spool

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// mapFile maps f's first size bytes shared and read-write (a view of a
// file mapping): stores are in the system's cache at once, so they reach
// the file even if the process is killed.
func mapFile(f *os.File, size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("durable queue: map %s: size %d", f.Name(), size)
	}
	n := uint64(size)
	h, err := windows.CreateFileMapping(windows.Handle(f.Fd()), nil, windows.PAGE_READWRITE, uint32(n>>32), uint32(n), nil)
	if err != nil {
		return nil, fmt.Errorf("durable queue: map %s: %w", f.Name(), err)
	}
	// The view keeps the mapping object alive: its handle is not needed
	// once the view exists, so none is kept.
	defer windows.CloseHandle(h)
	addr, err := windows.MapViewOfFile(h, windows.FILE_MAP_WRITE, 0, 0, uintptr(size))
	if err != nil {
		return nil, fmt.Errorf("durable queue: map %s: %w", f.Name(), err)
	}
	// addr is memory the Go heap does not manage: converting it through
	// a pointer to it (rather than unsafe.Pointer(addr)) is what vet's
	// unsafeptr check accepts.
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), size), nil
}

// unmapFile undoes mapFile; b must not be used after.
func unmapFile(b []byte) error {
	if b == nil {
		return nil
	}
	return windows.UnmapViewOfFile(uintptr(unsafe.Pointer(&b[0])))
}

// flushMap starts writing the view b's dirty pages to its file; the
// datasync after it (FlushFileBuffers) waits until they are on disk.
func flushMap(b []byte) error {
	if b == nil {
		return nil
	}
	return windows.FlushViewOfFile(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

// lockedByte is the byte of the lock file that is locked, at 4 GiB (a
// lock may lie past the end of a file): far from the pid written at its
// start, because a Windows lock also forbids reading the bytes it covers,
// and another process reads the pid to say who holds the directory.
func lockedByte() *windows.Overlapped { return &windows.Overlapped{OffsetHigh: 1} }

// lockFile locks one byte of f exclusively without waiting; the system
// drops the lock when the handle is closed or the process dies.
func lockFile(f *os.File) error {
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, lockedByte())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLocked
	}
	return err
}

// unlockFile drops lockFile's lock at once: closing the handle would
// too, but Windows may take its time, and a handler reopened right away
// in this process would find the directory still locked.
func unlockFile(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, lockedByte())
}

// syncDir does nothing: NTFS journals a file's creation, and Windows
// cannot flush a directory handle.
func syncDir(string) error { return nil }
