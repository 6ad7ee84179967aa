package peer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Kafka is a Kafka broker run by a test: franz-go's kfake cluster, built
// as a program from internal/peer/kfake by scripts/install-peers.sh, on a
// loopback port, keeping its records in a temporary directory so that a
// restart on the same port serves them again.
type Kafka struct {
	Addr  string // host:port
	Topic string // created with one partition; a topic produced to first is created with one too
	bin   string
	dir   string
	args  []string // kfake's TLS and SASL flags
	daemon
}

// KfakeBin finds the kfake program: in the peers' cache
// (scripts/install-peers.sh builds it there), or on PATH.
func KfakeBin() (string, error) {
	cache, _ := os.UserCacheDir()
	if bin := filepath.Join(cache, "netlog-peers", "kfake", "kfake"); fileExists(bin) {
		return bin, nil
	}
	return exec.LookPath("kfake")
}

func kfakePath(t testing.TB) string {
	t.Helper()
	skipShort(t, "kfake")
	if bin, err := KfakeBin(); err == nil {
		return bin
	}
	return Path(t, "kfake") // fails or skips, as the mode says
}

// StartKafka starts a broker with topic and waits until it listens. args
// are more of kfake's flags: -tls-cert FILE -tls-key FILE for TLS, -sasl
// MECHANISM:USER:PASSWORD for SASL (internal/peer/kfake).
func StartKafka(t testing.TB, topic string, args ...string) *Kafka {
	t.Helper()
	k := &Kafka{Addr: FreePort(t, "tcp"), Topic: topic, bin: kfakePath(t), dir: t.TempDir(), args: args}
	t.Cleanup(func() { k.Stop(t) })
	k.Start(t)
	return k
}

// Start runs the broker, on the same port and with the same records as
// before if it ran already, and waits for its "ready" line.
func (k *Kafka) Start(t testing.TB) {
	t.Helper()
	_, port, _ := net.SplitHostPort(k.Addr)
	k.cmd = exec.Command(k.bin, append([]string{"-port", port, "-data-dir", filepath.Join(k.dir, "data"), "-topic", k.Topic}, k.args...)...)
	k.cmd.Stderr = os.Stderr
	out, err := k.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.cmd.Start(); err != nil {
		t.Fatalf("kfake: %v", err)
	}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if !strings.HasPrefix(line, "ready ") {
			k.Kill(t)
			t.Fatalf("kfake did not start on %s: %q", k.Addr, line)
		}
	case <-time.After(30 * time.Second):
		k.Kill(t)
		t.Fatalf("kfake printed nothing for 30 s")
	}
}

// Stop ends the broker with SIGTERM and waits for it.
func (k *Kafka) Stop(t testing.TB) { k.end(syscall.SIGTERM) }

// Kill ends the broker with SIGKILL, as a crash would, and waits for it.
func (k *Kafka) Kill(t testing.TB) { k.end(os.Kill) }

// KafkaRecord is one record as kcat read it.
type KafkaRecord struct {
	Partition int
	Offset    int64
	Timestamp int64 // milliseconds since 1970
	Key       *string
	Headers   map[string]string
	Value     string
}

// Read reads every record of topic with kcat (librdkafka), an
// independent client, from the first offset to the end of each partition
// at the time it reads. config is librdkafka's settings (-X), such as
// security.protocol=SASL_SSL.
func (k *Kafka) Read(t testing.TB, topic string, config ...string) []KafkaRecord {
	t.Helper()
	args := []string{"-C", "-b", k.Addr, "-t", topic, "-o", "beginning", "-e", "-q", "-J"}
	for _, c := range config {
		args = append(args, "-X", c)
	}
	cmd := exec.Command(Path(t, "kcat"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat: %v\n%s", err, stderr.Bytes())
	}
	var recs []KafkaRecord
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		r, err := decodeKcat(line)
		if err != nil {
			t.Fatalf("kcat printed %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// decodeKcat decodes one line of kcat -J.
func decodeKcat(line []byte) (KafkaRecord, error) {
	var j struct {
		Partition int      `json:"partition"`
		Offset    int64    `json:"offset"`
		TS        int64    `json:"ts"`
		Headers   []string `json:"headers"`
		Key       *string  `json:"key"`
		Payload   string   `json:"payload"`
	}
	if err := json.Unmarshal(line, &j); err != nil {
		return KafkaRecord{}, err
	}
	if len(j.Headers)%2 != 0 {
		return KafkaRecord{}, fmt.Errorf("headers %q: not key, value pairs", j.Headers)
	}
	r := KafkaRecord{Partition: j.Partition, Offset: j.Offset, Timestamp: j.TS, Key: j.Key, Value: j.Payload,
		Headers: map[string]string{}}
	for i := 0; i < len(j.Headers); i += 2 {
		r.Headers[j.Headers[i]] = j.Headers[i+1]
	}
	return r, nil
}

// Missing summarizes which of the records numbered 0 to n-1 are missing
// or duplicated in seen (the numbers read, in order) and where the order
// first breaks: "" if each came once, in order.
func Missing(n int, seen []int) string {
	count := make([]int, n)
	var missing, dup []int
	gap := -1
	for i, s := range seen {
		if s < 0 || s >= n {
			return "record number " + strconv.Itoa(s) + " was never sent"
		}
		count[s]++
		if gap < 0 && i > 0 && s != seen[i-1]+1 {
			gap = i
		}
	}
	for i, c := range count {
		if c == 0 {
			missing = append(missing, i)
		}
		if c > 1 {
			dup = append(dup, i)
		}
	}
	if len(missing) == 0 && len(dup) == 0 && gap < 0 {
		return ""
	}
	s := fmt.Sprintf("%d records read of %d sent: %d missing (first %v), %d duplicated (first %v)",
		len(seen), n, len(missing), missing[:min(len(missing), 10)], len(dup), dup[:min(len(dup), 10)])
	if gap >= 0 {
		s += fmt.Sprintf("; order first breaks at read %d: %d after %d", gap, seen[gap], seen[gap-1])
	}
	return s
}
