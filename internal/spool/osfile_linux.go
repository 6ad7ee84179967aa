package spool

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapSyncsFile: Linux's msync(MS_SYNC) is fdatasync of the range it
// flushes (vfs_fsync_range), so a second call would only cost.
const mapSyncsFile = true

// datasync flushes f's data and the metadata needed to read it back
// (its size), but not its times: cheaper than fsync, as safe for a queue.
func datasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
