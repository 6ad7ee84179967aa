package netlog_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/internal/testrecv"
)

// resultPrefix starts the line on which a child reports its handler's
// Stats to the parent, as JSON.
const resultPrefix = "durable-result: "

// inTmpfsChild runs the test named child (one that starts with
// peer.Tmpfs) in a tmpfs of its own (peer.InTmpfs) and returns the Stats
// it reported.
func inTmpfsChild(t *testing.T, child string) netlog.Stats {
	t.Helper()
	out := peer.InTmpfs(t, child)
	_, line, ok := strings.Cut(out, resultPrefix)
	line, _, _ = strings.Cut(line, "\n")
	var st netlog.Stats
	if err := json.Unmarshal([]byte(line), &st); !ok || err != nil {
		t.Fatalf("child %s reported no stats (%v):\n%s", child, err, out)
	}
	t.Logf("child %s:\n%s", child, out)
	return st
}

// report writes st for the parent.
func report(t *testing.T, st netlog.Stats) {
	st.LastError = nil // not JSON
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString(resultPrefix + string(b) + "\n")
}

// fillUntilRefused gives h numbered records from first on, each with pad,
// until Handle fails, and returns the numbers accepted and the error.
func fillUntilRefused(t *testing.T, h netlog.Handler, first int, pad string) (accepted []int, err error) {
	t.Helper()
	for i := first; i < first+100_000; i++ {
		if err := handleNumbered(h, i, pad); err != nil {
			return accepted, err
		}
		accepted = append(accepted, i)
	}
	t.Fatalf("%d records accepted and none refused", len(accepted))
	return nil, nil
}

// checkDiskError fails the test unless err is ErrDisk, an *netlog.Error
// naming a segment file in dir, and says errno's text.
func checkDiskError(t *testing.T, err error, dir string, errno syscall.Errno) {
	t.Helper()
	var e *netlog.Error
	if !errors.Is(err, netlog.ErrDisk) || !errors.As(err, &e) || !errors.Is(err, errno) ||
		!strings.Contains(err.Error(), dir+string(filepath.Separator)) || !strings.Contains(err.Error(), ".seg") ||
		!strings.Contains(err.Error(), errno.Error()) {
		t.Errorf("Handle: %v (%T), want a *netlog.Error matching ErrDisk and %q, naming a segment file in %s", err, err, errno.Error(), dir)
	}
}

// flushAll waits for h to deliver everything queued.
func flushAll(t *testing.T, h netlog.Handler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v; stats %+v", err, h.Stats())
	}
}

// TestDurableDiskFull: a durable handler whose directory's filesystem
// fills while its collector is down refuses the records that do not fit
// with ErrDisk, naming the file and saying the disk is full, and counts
// them; every record it accepted arrives, in order, once the collector is
// up, after which the space is free and records are accepted again.
func TestDurableDiskFull(t *testing.T) {
	st := inTmpfsChild(t, "TestDurableDiskFullChild")
	if st.Dropped.Disk != refusedOnFull+1 || st.Written == 0 {
		t.Errorf("child's stats: Dropped.Disk %d, Written %d; want %d and some", st.Dropped.Disk, st.Written, refusedOnFull+1)
	}
}

// checkRefusing hands h refusedOnFull-1 more records after the first it
// refused, and checks that each is refused with ErrDisk and counted: in
// all refusedOnFull in Dropped.Disk, the accepted ones pending, none
// written.
func checkRefusing(t *testing.T, h netlog.Handler, what string, accepted []int, pad string) {
	t.Helper()
	for i := range refusedOnFull - 1 {
		if err := handleNumbered(h, len(accepted)+1+i, pad); !errors.Is(err, netlog.ErrDisk) {
			t.Errorf("Handle %s: %v, want ErrDisk", what, err)
		}
	}
	st := h.Stats()
	if st.Dropped.Disk != refusedOnFull || st.Pending != uint64(len(accepted)) || st.Written != 0 {
		t.Errorf("%s: Dropped.Disk %d, Pending %d, Written %d; want %d, %d, 0", what, st.Dropped.Disk, st.Pending, st.Written, refusedOnFull, len(accepted))
	}
	checkSums(t, what, st)
}

// refusedOnFull is how many records TestDurableDiskFullChild gives its
// handler while the disk is full.
const refusedOnFull = 10

// TestDurableDiskFullChild is TestDurableDiskFull's child. Its tmpfs holds
// one segment file of 4 MiB, not two: the records fill the first file,
// and the next file cannot be allocated.
func TestDurableDiskFullChild(t *testing.T) {
	mnt := peer.Tmpfs(t, "5m")
	if mnt == "" {
		return
	}
	dir := filepath.Join(mnt, "queue")
	addr := unusedAddr(t)
	h := newHandler(t, false, "tcp", addr, durableOptions(dir))
	pad := strings.Repeat("p", 1000)
	accepted, err := fillUntilRefused(t, h, 0, pad)
	checkDiskError(t, err, dir, syscall.ENOSPC)
	full := segmentFiles(t, dir)
	checkRefusing(t, h, "on a full disk", accepted, pad)
	t.Logf("%d records of %d bytes accepted, then: %v", len(accepted), len(pad), err)

	r := testrecv.StartAt(t, "tcp", addr)
	receiveNumbered(t, r, accepted)
	flushAll(t, h)
	waitSpaceFreed(t, dir, full)
	// The space is free: records that need a new file are accepted again.
	var again []int
	for i := range 100 {
		n := 1_000_000 + i
		if err := handleNumbered(h, n, pad); err != nil {
			t.Fatalf("Handle after the queue drained: %v", err)
		}
		again = append(again, n)
	}
	receiveNumbered(t, r, again)
	flushAll(t, h)
	more := fillWhileUp(t, h, r, dir, pad)
	st := h.Stats()
	written := len(accepted) + len(again) + more
	if st.Written != uint64(written) || st.Dropped.Total() != refusedOnFull+1 || st.Pending != 0 {
		t.Errorf("at the end: %+v; want Written %d, Dropped %d, Pending 0", st, written, refusedOnFull+1)
	}
	checkSums(t, "at the end", st)
	report(t, st)
}

// fillWhileUp fills dir's disk with the collector up, each record
// delivered before the next is given, so that the file they are in is
// kept for more, emptied, when the disk is full: that file goes then, and
// records are accepted again. It returns how many records arrived.
func fillWhileUp(t *testing.T, h netlog.Handler, r *testrecv.Receiver, dir, pad string) int {
	t.Helper()
	n := 0
	for ; ; n++ {
		err := handleNumbered(h, 2_000_000+n, pad)
		if err != nil {
			checkDiskError(t, err, dir, syscall.ENOSPC)
			break
		}
		receiveNumbered(t, r, []int{2_000_000 + n})
		flushAll(t, h)
	}
	waitSpaceFreed(t, dir, segmentFiles(t, dir))
	if err := handleNumbered(h, 3_000_000, pad); err != nil {
		t.Fatalf("Handle after the full disk drained, the collector up: %v", err)
	}
	receiveNumbered(t, r, []int{3_000_000})
	flushAll(t, h)
	return n + 1
}

// waitSpaceFreed waits until the durable queue in dir has removed the
// segment files full (those there when the disk filled), which it does
// once their records are delivered, and there is room for a new file: a
// whole file made since (the queue makes the next file ahead of need) or
// the free space for one. The kernel may free a removed file's blocks a few
// milliseconds after the removal.
func waitSpaceFreed(t *testing.T, dir string, full []string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		files := segmentFiles(t, dir)
		var fs unix.Statfs_t
		if err := unix.Statfs(dir, &fs); err != nil {
			t.Fatal(err)
		}
		free := fs.Bavail * uint64(fs.Bsize)
		left := slices.DeleteFunc(slices.Clone(files), func(f string) bool { return !slices.Contains(full, f) })
		if len(left) == 0 && (len(files) > 0 && fileSize(files[0]) == segmentSize || free >= segmentSize) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("every record delivered, and after a minute segment files %v (%v when the disk filled), %d bytes free", files, full, free)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, with a deadline
	}
}

// fileSize is the size of the file at path, 0 if it is gone.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// segmentSize is the size of a segment file (internal/spool/disk.go).
const segmentSize = 4 << 20

// TestDurableReadOnly: a durable handler whose directory becomes read-only
// while its collector is down refuses the records that need a new segment
// file with ErrDisk, naming the file and saying the filesystem is
// read-only, and counts them; the records already queued arrive, in
// order, once the collector is up. A handler cannot be made on a
// directory it cannot create or lock: the error names it.
func TestDurableReadOnly(t *testing.T) {
	st := inTmpfsChild(t, "TestDurableReadOnlyChild")
	if st.Dropped.Disk != refusedOnFull || st.Written == 0 {
		t.Errorf("child's stats: Dropped.Disk %d, Written %d; want %d and some", st.Dropped.Disk, st.Written, refusedOnFull)
	}
}

// TestDurableReadOnlyChild is TestDurableReadOnly's child. A filesystem
// with files open for writing cannot be remounted read-only (EBUSY), so
// the directory is made read-only as a read-only bind mount of itself:
// the files the handler has open stay writable, through the mount they
// were opened on, and every path lookup after finds the read-only one.
func TestDurableReadOnlyChild(t *testing.T) {
	mnt := peer.Tmpfs(t, "64m")
	if mnt == "" {
		return
	}
	dir, other := filepath.Join(mnt, "queue"), filepath.Join(mnt, "other")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := unusedAddr(t)
	h := newHandler(t, false, "tcp", addr, durableOptions(dir))
	pad := strings.Repeat("p", 1000)
	for i := range 100 {
		if err := handleNumbered(h, i, pad); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	readOnly(t, dir)
	readOnly(t, other)
	accepted, err := fillUntilRefused(t, h, 100, pad) // those that fit in the file already made
	accepted = append(numbers(0, 100), accepted...)
	checkDiskError(t, err, dir, syscall.EROFS)
	checkRefusing(t, h, "on a read-only directory", accepted, pad)
	t.Logf("%d records accepted, then: %v", len(accepted), err)

	r := testrecv.StartAt(t, "tcp", addr)
	receiveNumbered(t, r, accepted)
	flushAll(t, h)
	st := h.Stats()
	if st.Written != uint64(len(accepted)) || st.Dropped.Total() != refusedOnFull || st.Pending != 0 {
		t.Errorf("at the end: %+v; want Written %d, Dropped %d, Pending 0", st, len(accepted), refusedOnFull)
	}
	checkSums(t, "at the end", st)
	checkOpenFails(t, filepath.Join(dir, "sub"), addr) // cannot be made
	checkOpenFails(t, other, addr)                     // cannot be locked
	report(t, st)
}

// readOnly makes dir read-only: a bind mount of itself, made read-only
// while detached and then attached (open_tree, mount_setattr,
// move_mount), so that no file the handler opens meanwhile, such as its
// next spare segment, can keep it writable (a remount would then fail
// with EBUSY).
func readOnly(t *testing.T, dir string) {
	t.Helper()
	fd, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		t.Fatalf("open_tree %s: %v", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		t.Fatalf("make a bind mount of %s read-only: %v", dir, err)
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		t.Fatalf("mount it on %s: %v", dir, err)
	}
}

// checkOpenFails fails the test unless a durable handler on dir, made by
// NewSocketHandler or by Open, fails at once with EROFS, naming dir.
func checkOpenFails(t *testing.T, dir, addr string) {
	t.Helper()
	_, err := netlog.NewSocketHandler("tcp", addr, durableOptions(dir))
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), dir+":") {
		t.Errorf("NewSocketHandler on %s: %v, want EROFS naming the directory", dir, err)
	}
	_, err = netlog.Open("tcp://"+addr+"?spool="+url.QueryEscape(dir), nil)
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), dir+":") {
		t.Errorf("Open on %s: %v, want EROFS naming the directory", dir, err)
	}
	t.Logf("a handler on %s: %v", dir, err)
}

// numbers is from, from+1, … to-1.
func numbers(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}
