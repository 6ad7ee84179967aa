//go:build !linux

package spool

import (
	"os"
)

// datasync is f.Sync, which on darwin is F_FULLFSYNC (a plain fsync there
// leaves data in the drive's cache) and on windows FlushFileBuffers.
func datasync(f *os.File) error { return f.Sync() }
