//go:build !unix && !windows

package spool

import (
	"fmt"
	"os"
	"runtime"
)

// Here (plan9, js/wasm, wasip1) there is neither mmap nor a file lock
// that a killed process is sure to drop: the durable queue cannot be
// used, and lockDir says so; the memory queue still works.

func mapFile(*os.File, int) ([]byte, error) { return nil, errNoMap }

func unmapFile([]byte) error { return nil }

func flushMap([]byte) error { return nil } // there is never a mapping here

func lockDir(string) (func() error, error) {
	return nil, fmt.Errorf("durable queue: directory locking is not supported on %s", runtime.GOOS)
}

// syncDir does nothing: there is no durable queue here.
func syncDir(string) error { return nil }
