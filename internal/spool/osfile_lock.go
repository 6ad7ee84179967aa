//go:build unix || windows

package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// lockedDirs are the directories this process holds, by absolute path
// with symlinks resolved. A second lockDir in one process must fail as
// one from another process does, and the OS lock does not say so: fcntl
// locks never conflict within a process, and worse, closing any other
// descriptor of the lock file would drop ours. So this set is checked
// before the lock file is even opened.
var lockedDirs = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// lockDir takes an exclusive lock on dir/lock (creating it), held until
// release is called, and writes this process's pid in it so that a
// second taker's error can say who holds the directory. The OS drops the
// lock when the process dies, however it dies: a killed process leaves
// no stale lock behind. The lock file stays when released: removing it
// would let two processes lock two different files of one name.
func lockDir(dir string) (release func() error, err error) {
	key, err := filepath.Abs(dir)
	if err == nil {
		key, err = filepath.EvalSymlinks(key)
	}
	if err != nil {
		return nil, fmt.Errorf("durable queue: lock %s: %w", dir, err)
	}
	if !claimDir(key) {
		return nil, fmt.Errorf("%w: %s is locked by this process (pid %d)", errLocked, dir, os.Getpid())
	}
	f, err := lockPidFile(dir, filepath.Join(key, "lock"))
	if err != nil {
		unclaimDir(key)
		return nil, err
	}
	return sync.OnceValue(func() error {
		err := errors.Join(unlockFile(f), f.Close())
		unclaimDir(key) // only now: until f is closed, another open of it would drop the lock
		if err != nil {
			return fmt.Errorf("durable queue: unlock %s: %w", dir, err)
		}
		return nil
	}), nil
}

// lockPidFile opens and locks the lock file at path, then writes our pid
// in it. dir is for errors.
func lockPidFile(dir, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("durable queue: lock %s: %w", dir, err)
	}
	err = lockFile(f)
	if errors.Is(err, errLocked) {
		f.Close()
		return nil, fmt.Errorf("%w: %s is locked by %s", errLocked, dir, lockHolder(path))
	}
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("durable queue: lock %s: %w", dir, err)
	}
	return f, nil
}

// lockHolder names who holds the lock file at path, by the pid in it; a
// holder that has just taken the lock and not yet written its pid (or
// whose file cannot be read) is "another process".
func lockHolder(path string) string {
	b, err := os.ReadFile(path)
	if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil {
		return "pid " + strconv.Itoa(pid)
	}
	return "another process"
}

// claimDir adds key to lockedDirs, false if it is there already.
func claimDir(key string) bool {
	lockedDirs.Lock()
	defer lockedDirs.Unlock()
	if lockedDirs.m[key] {
		return false
	}
	lockedDirs.m[key] = true
	return true
}

func unclaimDir(key string) {
	lockedDirs.Lock()
	defer lockedDirs.Unlock()
	delete(lockedDirs.m, key)
}
