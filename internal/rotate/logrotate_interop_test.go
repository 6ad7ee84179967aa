//go:build unix

package rotate

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlog-go/netlog/internal/peer"
	"github.com/netlog-go/netlog/receive"
)

// The real logrotate rotates the file under a stream of records, and its
// postrotate script sends this process a SIGHUP, on which the File is
// reopened — netlog serve's external rotation, whole: every record is in
// exactly one file, in order, across logrotate's numbered and compressed
// files.
func TestLogrotateInterop(t *testing.T) {
	bin := peer.Path(t, "logrotate")
	peer.Path(t, "gzip") // logrotate's compresscmd
	const writers, n, rotations = 3, 3000, 3
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	f := mustOpen(t, path, Config{})
	conf := filepath.Join(dir, "logrotate.conf")
	err := os.WriteFile(conf, fmt.Appendf(nil, `%s {
	rotate 10
	create 0640
	compress
	delaycompress
	postrotate
		kill -HUP %d
	endscript
}
`, path, os.Getpid()), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	reopened := reopenOnHUP(t, f)

	s := startStream(t, &receive.Printer{W: f}, writers, n, rotations+1)
	for k := range rotations {
		s.midPhase(k)
		out, err := exec.Command(bin, "-f", "-s", filepath.Join(dir, "state"), conf).CombinedOutput()
		if err != nil {
			t.Fatalf("logrotate: %v\n%s", err, out)
		}
		select {
		case err := <-reopened:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute):
			t.Fatal("no SIGHUP from logrotate's postrotate within a minute")
		}
		s.next(k)
	}
	s.finish()
	var ps []piece
	for i := rotations; i >= 1; i-- {
		name := path + "." + strconv.Itoa(i)
		if i > 1 {
			name += gzExt // delaycompress: all but the newest
		}
		ps = append(ps, piece{name, readFile(t, name)})
	}
	ps = append(ps, piece{path, readFile(t, path)})
	s.check(ps)
}

// reopenOnHUP reopens f on each SIGHUP this process gets, as netlog
// serve does, and tells each Reopen's result on the channel it returns.
func reopenOnHUP(t *testing.T, f *File) <-chan error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reopened, done := make(chan error), make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				reopened <- f.Reopen()
			case <-done:
				return
			}
		}
	}()
	t.Cleanup(func() {
		signal.Stop(hup)
		close(done)
	})
	return reopened
}

// gzip(1) reads the compressed rotated files, and gunzip -N restores
// each one's name and modification time from its header.
func TestGunzipInterop(t *testing.T) {
	bin := peer.Path(t, "gzip")
	path := filepath.Join(t.TempDir(), "app.log")
	f := mustOpen(t, path, Config{MaxSize: 100, Compress: true})
	for i := range 20 {
		mustWrite(t, f, fmt.Sprintf("record %d %s\n", i, strings.Repeat("x", i*10)))
	}
	settle(t, f)
	ps := pieces(t, path)
	for _, p := range ps[:len(ps)-1] {
		zipped, err := os.Stat(p.name) // written after the original's last record
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		copied := filepath.Join(dir, "renamed.gz")
		os.WriteFile(copied, readRaw(t, p.name), 0o600)
		if out, err := exec.Command(bin, "-dN", copied).CombinedOutput(); err != nil {
			t.Fatalf("gzip -dN %s: %v\n%s", p.name, err, out)
		}
		restored := filepath.Join(dir, filepath.Base(strings.TrimSuffix(p.name, gzExt)))
		got, err := os.ReadFile(restored)
		if err != nil || !bytes.Equal(got, p.data) {
			t.Fatalf("gunzip -N of %s: %q, %v; want %q", p.name, got, err, p.data)
		}
		if st, err := os.Stat(restored); err != nil || st.ModTime().After(zipped.ModTime()) {
			t.Errorf("gunzip -N of %s: time %v, after the .gz's %v: not the original's, from the header", p.name, st.ModTime(), zipped.ModTime())
		}
	}
}

func readRaw(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
