package spool

// A durable spool keeps its frames in segment files in Config.Dir, mapped
// into memory: Enqueue's copy into the mapping is the whole cost of
// durability against the process being killed, since the kernel's page
// cache keeps what a dead process stored. A syncer goroutine flushes the
// files to stable storage as Config.Fsync says, and unmaps and removes the
// segments whose every frame was delivered or dropped.
//
// A segment file holds one severity's frames, in the order they were
// queued: a 16-byte file header (fileMagic, the severity), then frames,
// each a 20-byte header and its bytes:
//
//	[0]     mark: 0 not yet written, markPending, markDone
//	[1:4]   zero
//	[4:8]   length, little-endian
//	[8:12]  CRC-32C of the length, the sequence number and the frame
//	[12:20] sequence number
//
// The mark is stored last, so that a process killed while storing a frame
// leaves a frame that is either whole or fails its checksum; a delivered
// frame's mark becomes markDone, so that the next process does not send
// it again. On start, frames are read back through their checksums: a
// damaged frame is counted and skipped, and the reader finds the next
// whole frame after it, so that a bad byte costs at most its frame.

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	fileMagic   = "NLSPOOL1"
	fileHdr     = 16
	frameHdr    = 20
	markPending = 0xa5
	markDone    = 0xd0
	// diskSegSize is a segment file's size; a larger frame gets a file of
	// its own. Each severity appends to its own file.
	diskSegSize = 4 << 20
)

// ErrDisk means a frame could not be written to the queue's directory
// (disk full, directory no longer writable) and was dropped.
var ErrDisk = errors.New("record dropped") // what it wraps says "durable queue: …"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segFile is a mapped segment file.
type segFile struct {
	f       *os.File
	path    string
	mapped  []byte
	used    int  // bytes stored
	synced  int  // the syncer's flushed prefix
	live    int  // frames neither delivered nor dropped
	retired bool // its fifo is past it: it takes no more frames
	gone    bool // on the dead list
}

// mark is where a queued frame's mark byte is: f nil for a frame kept in
// memory.
type mark struct {
	f   *segFile
	at  int
	sev int // for a frame in memory, to save at Close
}

// disk is a Spool's durable side. Its fields are guarded by the Spool's
// mu, but for those only the syncer touches.
type disk struct {
	mu      *sync.Mutex // the Spool's
	dir     string
	unlock  func() error
	fsync   time.Duration
	index   uint64     // the next segment file's number
	files   []*segFile // mapped, not yet removed
	dead    []*segFile // to unmap and remove
	frames  uint64     // frames in files, neither delivered nor dropped
	spare   *segFile   // made ready by the syncer, not yet in use
	dirty   bool       // the syncer has been kicked for data not yet flushed
	created bool       // a file was made since the syncer's last pass
	full    bool       // the last file could not be made: emptied files are not kept (fifo.advance), no spare is made
	noSpare bool       // prepare's last try failed: it tries again once a file is removed
	onError func(error)

	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

// openDisk locks cfg.Dir, making it if missing, and reads back what an
// earlier process left in it into fifos. It returns the number of frames
// recovered, of damaged frames skipped, and the next sequence number.
func openDisk(cfg Config, fifos *[Severities]fifo) (d *disk, recovered, corrupt int, next uint64, err error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, 0, 0, 0, fmt.Errorf("durable queue: %w", err)
	}
	unlock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	d = &disk{dir: cfg.Dir, unlock: unlock, fsync: cfg.Fsync,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	if cfg.OnError != nil {
		d.onError = func(err error) { cfg.OnError(err, 0) }
	}
	names, err := filepath.Glob(filepath.Join(cfg.Dir, "*.seg"))
	if err != nil {
		unlock()
		return nil, 0, 0, 0, fmt.Errorf("durable queue: %w", err)
	}
	var found []*segment
	for _, name := range names {
		n, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(name), ".seg"), 16, 64)
		if err != nil {
			continue // not ours
		}
		d.index = max(d.index, n+1)
		s, sev, bad, err := d.recover(name)
		corrupt += bad
		if err != nil {
			d.release()
			return nil, 0, 0, 0, err
		}
		if s == nil {
			continue
		}
		s.sev = sev
		found = append(found, s)
		recovered += len(s.lens)
		next = max(next, s.seqs[len(s.seqs)-1]+1)
	}
	// A severity's files are in the order of their frames: a spare file
	// is numbered when it is made, not when it is taken.
	slices.SortFunc(found, func(a, b *segment) int { return cmp.Compare(a.seqs[0], b.seqs[0]) })
	for _, s := range found {
		fifos[s.sev].segs = append(fifos[s.sev].segs, s)
		fifos[s.sev].n += len(s.lens)
	}
	d.frames = uint64(recovered)
	return d, recovered, corrupt, next, nil
}

// recover maps the segment file at name and returns its frames still to
// deliver, as a full segment, and how many damaged frames it skipped. A
// file with nothing left to deliver is removed, and s is nil.
func (d *disk) recover(name string) (s *segment, sev, corrupt int, err error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("durable queue: %w", err)
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() < fileHdr || fi.Size() > 1<<31 {
		f.Close()
		return nil, 0, 1, d.setAside(name, err)
	}
	m, err := mapFile(f, int(fi.Size()))
	if err != nil {
		f.Close()
		return nil, 0, 0, fmt.Errorf("durable queue: %s: %w", name, err)
	}
	if allZero(m[:fileHdr]) { // a spare never used
		unmapFile(m)
		f.Close()
		return nil, 0, 0, os.Remove(name)
	}
	if string(m[:len(fileMagic)]) != fileMagic || int(m[8]) >= Severities {
		unmapFile(m)
		f.Close()
		return nil, 0, 1, d.setAside(name, nil)
	}
	sf := &segFile{f: f, path: name, mapped: m, used: len(m)}
	s = &segment{buf: m, file: sf}
	bad := scan(m, s)
	for _, b := range bad {
		skipOver(m, b[0], b[1])
	}
	corrupt = len(bad)
	if sf.live = len(s.lens); sf.live == 0 {
		d.files = append(d.files, sf)
		sf.retired = true
		d.check(sf)
		return nil, 0, corrupt, nil
	}
	if err := syncFile(f, m); err != nil { // what the dead process stored may be only in the page cache
		d.onErr(err)
	}
	sf.synced = len(m)
	d.files = append(d.files, sf)
	return s, int(m[8]), corrupt, nil
}

// setAside renames a segment file that is not one (a bad header, or too
// short to have one) to name.corrupt, for a person to look at.
func (d *disk) setAside(name string, cause error) error {
	if err := os.Rename(name, name+".corrupt"); err != nil {
		return fmt.Errorf("durable queue: %s is damaged (%v) and cannot be set aside: %w", name, cause, err)
	}
	return nil
}

// scan reads the frames of the mapped file m into s, those still to
// deliver, and returns the damaged stretches it skipped, [from, to) each:
// a frame that fails its checksum and whatever follows it up to the next
// whole frame, or a torn tail.
func scan(m []byte, s *segment) (bad [][2]int) {
	from := -1 // the start of the damaged stretch under way
	for at := fileHdr; at+frameHdr <= len(m); {
		h := m[at : at+frameHdr]
		n := int(min(binary.LittleEndian.Uint32(h[4:]), uint32(len(m)))) // an int of 32 bits cannot hold every length
		switch {
		case from >= 0 && (h[0] != markPending && h[0] != markDone || h[1]|h[2]|h[3] != 0):
			at++ // not where a frame starts: no checksum to compute
			continue
		case from < 0 && allZero(h):
			if !allZero(m[at:]) { // a frame was being stored when the process died
				bad = append(bad, [2]int{at, len(m)})
			}
			return bad
		case n > len(m)-at-frameHdr || binary.LittleEndian.Uint32(h[8:]) != frameCRC(h, m[at+frameHdr:at+frameHdr+n]):
			if from < 0 {
				from = at
			}
			at++ // look for the next whole frame
			continue
		}
		if from >= 0 {
			bad = append(bad, [2]int{from, at})
			from = -1
		}
		if h[0] != markDone {
			s.offs = append(s.offs, at+frameHdr)
			s.lens = append(s.lens, n)
			s.seqs = append(s.seqs, binary.LittleEndian.Uint64(h[12:]))
		}
		at += frameHdr + n
	}
	if from >= 0 {
		bad = append(bad, [2]int{from, len(m)})
	}
	return bad
}

// skipOver makes the damaged stretch m[from:to] a delivered frame, so
// that the next start skips it without counting it again.
func skipOver(m []byte, from, to int) {
	if to-from < frameHdr {
		return // garbage shorter than a header, not our writes: counted again
	}
	h := m[from : from+frameHdr]
	clear(h)
	binary.LittleEndian.PutUint32(h[4:], uint32(to-from-frameHdr))
	binary.LittleEndian.PutUint32(h[8:], frameCRC(h, m[from+frameHdr:to]))
	h[0] = markDone
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// frameCRC is the checksum of the frame with header h.
func frameCRC(h, frame []byte) uint32 {
	c := crc32.Update(0, castagnoli, h[4:8])
	c = crc32.Update(c, castagnoli, h[12:20])
	return crc32.Update(c, castagnoli, frame)
}

// push stores frame, of sequence number seq and severity sev, at the end
// of f in a segment file, starting a new file if the last has no room.
func (d *disk) push(p *segPool, f *fifo, seq uint64, frame []byte, sev int) error {
	need := frameHdr + len(frame)
	var s *segment
	if k := len(f.segs); k > 0 && f.segs[k-1].file != nil && cap(f.segs[k-1].buf)-len(f.segs[k-1].buf) >= need {
		s = f.segs[k-1]
	} else {
		var err error
		if s, err = d.create(sev, fileHdr+need); err != nil {
			return err
		}
		f.grow(p, s)
	}
	at := len(s.buf)
	s.buf = s.buf[:at+need]
	h := s.buf[at : at+frameHdr]
	binary.LittleEndian.PutUint32(h[4:], uint32(len(frame)))
	binary.LittleEndian.PutUint64(h[12:], seq)
	copy(s.buf[at+frameHdr:], frame)
	binary.LittleEndian.PutUint32(h[8:], frameCRC(h, frame))
	h[0] = markPending // last: the frame is whole
	s.offs = append(s.offs, at+frameHdr)
	s.lens = append(s.lens, len(frame))
	s.seqs = append(s.seqs, seq)
	s.file.used = len(s.buf)
	s.file.live++
	f.n++
	d.frames++
	if !d.dirty && d.fsync >= 0 {
		d.dirty = true
		d.poke()
	}
	return nil
}

// create returns a segment file of at least size bytes for frames of
// severity sev: the spare the syncer made ready, or a file made now.
func (d *disk) create(sev, size int) (*segment, error) {
	sf := d.spare
	if sf != nil && size <= len(sf.mapped) {
		d.spare = nil
	} else {
		f, m, err := makeFile(d.name(), max(size, diskSegSize))
		if err != nil {
			d.full = true
			return nil, err
		}
		sf = &segFile{f: f, path: f.Name(), mapped: m}
	}
	d.full = false
	copy(sf.mapped, fileMagic)
	sf.mapped[8] = byte(sev)
	sf.used = fileHdr
	d.files = append(d.files, sf)
	d.created = true
	d.poke() // for the next spare
	return &segment{buf: sf.mapped[:fileHdr], file: sf}, nil
}

// name numbers the next segment file.
func (d *disk) name() string {
	d.index++
	return filepath.Join(d.dir, fmt.Sprintf("%016x.seg", d.index-1))
}

// makeFile makes the file name of size bytes, its blocks written, and
// maps it.
func makeFile(name string, size int) (*os.File, []byte, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrDisk, err)
	}
	err = allocFile(f, size)
	var m []byte
	if err == nil {
		m, err = mapFile(f, size)
	}
	if err != nil {
		f.Close()
		os.Remove(name)
		return nil, nil, fmt.Errorf("%w: %w", ErrDisk, err) // err names the file
	}
	return f, m, nil
}

// prepare makes the spare segment file, with its pages touched: faulting
// them in one by one would cost the callers of Enqueue a few
// microseconds every few records. It runs on the syncer's goroutine. It
// does not try while files cannot be made (until create makes one), nor
// again after a failed try until a file is removed: on a full disk a try
// writes zeros up to the last free block before it fails, which trying
// on every pass would cost each time, taking the space that create needs
// at the moment it frees.
func (d *disk) prepare() {
	mu := d.lock()
	if d.spare != nil || d.full || d.noSpare {
		mu.Unlock()
		return
	}
	name := d.name()
	mu.Unlock()
	f, m, err := makeFile(name, diskSegSize)
	if err != nil {
		mu = d.lock()
		d.noSpare = true
		mu.Unlock()
		return // create will report it, for a record, if it happens again
	}
	for i := 0; i < len(m); i += os.Getpagesize() {
		m[i] = 0 // a store: the page is mapped writable now
	}
	mu = d.lock()
	d.spare = &segFile{f: f, path: name, mapped: m}
	mu.Unlock()
}

func (d *disk) poke() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// resolve marks frames delivered or dropped: the next process will not
// send them, and a retired file none of whose frames are left goes.
func (d *disk) resolve(ms []mark) {
	for _, m := range ms {
		if m.f != nil {
			d.done(m.f, m.at)
		}
	}
}

func (d *disk) done(f *segFile, at int) {
	f.mapped[at-frameHdr] = markDone
	f.live--
	d.frames--
	d.check(f)
}

// retire notes that f takes no more frames.
func (d *disk) retire(f *segFile) {
	f.retired = true
	d.check(f)
}

func (d *disk) check(f *segFile) {
	if f.retired && f.live == 0 && !f.gone {
		f.gone = true
		d.dead = append(d.dead, f)
		d.poke()
	}
}

// run is the syncer: it flushes what was stored since its last pass, at
// most every fsync if that is positive, and removes dead files.
func (d *disk) run() {
	defer close(d.stopped)
	for stopping := false; !stopping; {
		select {
		case <-d.kick:
		case <-d.stop:
			stopping = true
		}
		if d.fsync > 0 && !stopping {
			select {
			case <-time.After(d.fsync):
			case <-d.stop:
				stopping = true
			}
		}
		d.pass()
		if !stopping {
			d.prepare()
		}
	}
}

// toSync is a stretch of a file the syncer flushes.
type toSync struct {
	f        *segFile
	from, to int
}

// pass flushes and removes what it finds to do. The Spool's mutex is not
// held while it works: only the syncer unmaps, so a file it flushes
// cannot vanish under it.
func (d *disk) pass() {
	mu := d.lock()
	var work []toSync
	if d.fsync >= 0 {
		for _, f := range d.files {
			if f.used > f.synced && !f.gone {
				work = append(work, toSync{f, f.synced, f.used})
			}
		}
	}
	dead, created := d.dead, d.created && d.fsync >= 0
	d.dead, d.dirty, d.created = nil, false, false
	mu.Unlock()
	if created {
		if err := syncDir(d.dir); err != nil {
			d.onErr(fmt.Errorf("durable queue: %s: %w", d.dir, err))
		}
	}
	for _, w := range work {
		from := w.from &^ (os.Getpagesize() - 1) // msync takes whole pages
		if err := syncFile(w.f.f, w.f.mapped[from:w.to]); err != nil {
			d.onErr(err) // it names the file
		}
		w.f.synced = w.to
	}
	for _, f := range dead {
		d.remove(f)
	}
}

// save writes the frames in memory (MemoryFirst's), those of the batch
// bt the writer left and those fifos hold, to files, as rsyslog's
// saveOnShutdown does: at Close, they would be lost. Their sequence
// numbers put them back in their place among the files' frames at the
// next start.
func (d *disk) save(p *segPool, bt *batch, fifos *[Severities]fifo) {
	var to [Severities]fifo // not fifos: their last files may be older than the frames
	start := 0
	for i, end := range bt.ends {
		sev := bt.sev
		if len(bt.marks) > 0 {
			if bt.marks[i].f != nil {
				start = end
				continue // in its file still
			}
			sev = bt.marks[i].sev
		}
		d.store(p, &to[sev], bt.seqs[i], bt.buf[start:end], sev)
		start = end
	}
	for sev := range fifos {
		for f := &fifos[sev]; !f.empty(); {
			frame, m := f.oldest()
			if m.f == nil {
				d.store(p, &to[sev], f.first(), frame, sev)
			}
			f.advance(p, len(frame))
		}
	}
}

// store pushes a frame for save. A failure is reported; the frame is
// counted lost with the others Close could not keep.
func (d *disk) store(p *segPool, f *fifo, seq uint64, frame []byte, sev int) {
	if err := d.push(p, f, seq, frame, sev); err != nil {
		d.onErr(err)
	}
}

// remove unmaps and deletes a file none of whose frames is left.
func (d *disk) remove(f *segFile) {
	unmapFile(f.mapped)
	f.f.Close()
	if err := os.Remove(f.path); err != nil {
		d.onErr(fmt.Errorf("durable queue: %w", err))
	}
	mu := d.lock()
	d.files = slices.DeleteFunc(d.files, func(g *segFile) bool { return g == f })
	d.noSpare = false // there may be room for one now
	mu.Unlock()
}

func (d *disk) lock() *sync.Mutex {
	d.mu.Lock()
	return d.mu
}

func (d *disk) onErr(err error) {
	if d.onError != nil {
		d.onError(err)
	}
}

// close stops the syncer after a last pass, closes the files, leaving
// the frames not delivered in them for the next process, and unlocks
// the directory.
func (d *disk) close() error {
	select {
	case <-d.stopped: // stopped already
	default:
		close(d.stop)
		<-d.stopped
	}
	return d.release()
}

// release closes the files, leaving the frames not delivered in them,
// and unlocks the directory; the syncer is not running.
func (d *disk) release() error {
	if d.spare != nil {
		d.files = append(d.files, d.spare)
	}
	for _, f := range d.files {
		unmapFile(f.mapped)
		f.f.Close()
		if f.live == 0 { // the tail kept for more, or the spare: nothing to deliver
			os.Remove(f.path)
		}
	}
	d.files, d.spare = nil, nil
	return d.unlock()
}
