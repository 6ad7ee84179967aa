package rotate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// logLines returns about n bytes of lines in the form receive.Printer
// prints, with the numbers varying as a real stream's do.
func logLines(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "2026-12-01T10:30:%02d.%06dZ 127.0.0.1:%d INFO app.worker: request %d done in %d.%dms user=u%d status=%d\n",
			i/1000%60, i*7919%1000000, 40000+i%2000, i, i%97, i%10, i%50, 200+i%3*100)
	}
	return b.Bytes()
}

// BenchmarkWrite measures Write of a 200-byte record (unbatched) and of
// a 256 KiB batch (receive.Printer's size), with no rotation and with
// rotation every few MiB (Keep 2, so the disk holds little), and Write
// then Sync of a 4 KiB and a 256 KiB batch (an output with sync=true).
func BenchmarkWrite(b *testing.B) {
	line, batch := logLines(200)[:200], logLines(256 << 10)[:256<<10]
	for _, bc := range []struct {
		name string
		p    []byte
		cfg  Config
		sync bool
	}{
		{"200B", line, Config{}, false},
		{"200B/rotate=1MiB", line, Config{MaxSize: 1 << 20, Keep: 2}, false},
		{"256KiB", batch, Config{}, false},
		{"256KiB/rotate=4MiB", batch, Config{MaxSize: 4 << 20, Keep: 2}, false},
		{"4KiB/sync", batch[:4<<10], Config{MaxSize: 4 << 20, Keep: 2}, true},
		{"256KiB/sync", batch, Config{MaxSize: 4 << 20, Keep: 2}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "app.log")
			f, err := Open(path, bc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(bc.p)))
			b.ReportAllocs()
			written := 0
			for b.Loop() {
				if _, err := f.Write(bc.p); err != nil {
					b.Fatal(err)
				}
				if bc.sync {
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
				if written += len(bc.p); bc.cfg.MaxSize == 0 && written >= 256<<20 {
					b.StopTimer() // the disk need not hold what a long run writes
					os.Truncate(path, 0)
					written = 0
					b.StartTimer()
				}
			}
			b.ReportMetric(float64(f.Stats().Rotations)/float64(b.N), "rotations/op")
		})
	}
}

// BenchmarkCompress measures the compression of a rotated 4 MiB file of
// log lines: MB/s of the original, and the size of the .gz against it.
func BenchmarkCompress(b *testing.B) {
	data := logLines(4 << 20)
	dir := b.TempDir()
	f, err := Open(filepath.Join(dir, "app.log"), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tz := &tidier{f: f, buf: make([]byte, 64<<10)}
	name := filepath.Join(dir, "app.log-20261201T103000Z")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		os.Remove(name + gzExt)
		if err := os.WriteFile(name, data, 0o640); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := tz.compress(b.Context(), name); err != nil {
			b.Fatal(err)
		}
	}
	st, err := os.Stat(name + gzExt)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Size())/float64(len(data)), "gz/original")
}
