//go:build !linux

package spool

import (
	"errors"
	"os"
)

// reserve has no single call that reserves blocks here without writing
// them (darwin's F_PREALLOCATE and posix_fallocate differ per system):
// allocFile writes zeros.
func reserve(*os.File, int) error { return errors.ErrUnsupported }

// datasync is f.Sync, which on darwin is F_FULLFSYNC (a plain fsync there
// leaves data in the drive's cache) and on windows FlushFileBuffers.
func datasync(f *os.File) error { return f.Sync() }
