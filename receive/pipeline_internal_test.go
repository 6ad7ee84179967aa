package receive

import (
	"testing"
	"time"

	"github.com/netlog-go/netlog/record"
)

// TestPipelineIdleHandOvers: a reader that finds nothing more to read
// time after time hands the writer an empty chunk each time, to commit,
// and takes none back meanwhile. The writer gives each back; once its
// queue of given-back chunks is full it must not wait on the reader
// while the reader waits on it (they deadlocked so, found under 386).
func TestPipelineIdleHandOvers(t *testing.T) {
	s := &Server{Sink: SinkFunc(func(*record.Entry) error { return nil })}
	pl := s.startPipeline(&conn{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			pl.committed = false // as if a frame came since the last hand-over
			if !pl.handOver(true) {
				t.Error("the writer stopped")
				return
			}
		}
		close(pl.work)
		<-pl.done
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("reader and writer still waiting on each other after a minute")
	}
}
