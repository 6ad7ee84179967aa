//go:build !linux

package spool

import (
	"os"
)

// mapSyncsFile: elsewhere flushing a mapping may leave the data in the
// drive's cache (macOS), so f is flushed too.
const mapSyncsFile = false

// datasync is f.Sync, which on darwin is F_FULLFSYNC (a plain fsync there
// leaves data in the drive's cache) and on windows FlushFileBuffers.
func datasync(f *os.File) error { return f.Sync() }
