//go:build !windows

package rotate

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// syncDir commits a directory's entries to disk, so that a rename or a
// new file in it survives a crash. A file system that cannot sync a
// directory (EINVAL, as some FUSE and network ones) commits them its own
// way.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("rotate: syncing directory %s: %w", dir, bare(err))
	}
	err = d.Sync()
	d.Close() // read-only: nothing to lose
	if err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("rotate: syncing directory %s: %w", dir, bare(err))
	}
	return nil
}
