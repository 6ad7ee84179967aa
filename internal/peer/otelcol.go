package peer

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Collector is an OpenTelemetry Collector run by a test (the build of
// internal/peer/otelcol): an OTLP/HTTP receiver on HTTP whose logs a file
// exporter writes to File, one JSON line of OTLP per batch.
type Collector struct {
	HTTP string // host:port of the OTLP/HTTP receiver
	File string
	conf string
	log  string // the collector's own log
	bin  string
	tls  bool
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// CollectorOptions changes the collector's configuration.
type CollectorOptions struct {
	// MaxRequestBodySize, if not 0, is the receiver's limit on a
	// request's body: a larger one is answered 400.
	MaxRequestBodySize int
	// CertFile and KeyFile, if set, make the receiver take HTTPS only,
	// proving itself with them.
	CertFile, KeyFile string
}

// CollectorBin finds the collector that scripts/install-peers.sh builds
// into the peers' cache.
func CollectorBin() (string, error) {
	cache, _ := os.UserCacheDir()
	bin := filepath.Join(cache, "netlog-peers", "otelcol", "netlog-otelcol")
	if !fileExists(bin) {
		return "", fmt.Errorf("interop peer OpenTelemetry Collector is missing (%s); scripts/install-peers.sh builds it from internal/peer/otelcol", bin)
	}
	return bin, nil
}

func collectorPath(t testing.TB) string {
	skipShort(t, "otelcol")
	bin, err := CollectorBin()
	if err != nil {
		Unavailable(t, err.Error())
	}
	return bin
}

// StartCollector starts a collector on a free loopback port and waits
// until its receiver takes a request; it is stopped when the test ends.
func StartCollector(t testing.TB, o CollectorOptions) *Collector {
	t.Helper()
	dir := t.TempDir()
	c := &Collector{
		HTTP: FreePort(t, "tcp"), File: filepath.Join(dir, "logs.jsonl"),
		conf: filepath.Join(dir, "otelcol.yaml"), log: filepath.Join(dir, "otelcol.log"),
		bin: collectorPath(t), tls: o.CertFile != "",
	}
	if err := os.WriteFile(c.conf, []byte(CollectorConfig(c.HTTP, c.File, o)), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Start(t)
	t.Cleanup(c.Stop)
	return c
}

// CollectorConfig is the collector's configuration: an OTLP/HTTP
// receiver on endpoint (host:port), as o says, whose logs a file exporter
// writes to file.
func CollectorConfig(endpoint, file string, o CollectorOptions) string {
	limit := ""
	if o.MaxRequestBodySize != 0 {
		limit = fmt.Sprintf("\n        max_request_body_size: %d", o.MaxRequestBodySize)
	}
	if o.CertFile != "" {
		limit += fmt.Sprintf("\n        tls:\n          cert_file: %s\n          key_file: %s", o.CertFile, o.KeyFile)
	}
	// Internal metrics off: parallel collectors would share their port.
	return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: %s%s
exporters:
  file:
    path: %s
    flush_interval: 50ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, endpoint, limit, file)
}

// Start starts the collector (again, after Stop) and waits for it.
func (c *Collector) Start(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(c.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	c.cmd = exec.Command(c.bin, "--config", c.conf)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("otelcol: %v", err)
	}
	done, cmd := make(chan struct{}), c.cmd
	c.done = done
	go func() { cmd.Wait(); close(done) }()
	if !c.ready() {
		out, _ := os.ReadFile(c.log)
		t.Fatalf("the collector did not take a request within 60 s; its log:\n%s", out)
	}
}

// ready posts empty export requests until the receiver answers 200: the
// collector starts its receivers last, once the pipeline behind them is
// up. It gives up if the collector exits.
func (c *Collector) ready() bool {
	url, client := "http://"+c.HTTP+"/v1/logs", http.DefaultClient
	if c.tls { // the probe asks only whether it answers: the tests verify
		url = "https://" + c.HTTP + "/v1/logs"
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		defer client.CloseIdleConnections()
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		resp, err := client.Post(url, "application/json", bytes.NewReader([]byte("{}")))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-c.done:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// Stop stops the collector (SIGTERM: it flushes its file) and waits for
// it to exit, killing it after 30 s.
func (c *Collector) Stop() {
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd = nil
}

// Logs waits until the file holds at least n log records, for at most
// wait, and returns every record in it with its resource and scope, in
// file order.
func (c *Collector) Logs(t testing.TB, n int, wait time.Duration) []CollectedLog {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		logs := c.read(t)
		if len(logs) >= n || time.Now().After(deadline) {
			return logs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CollectedLog is one log record in the collector's file.
type CollectedLog struct {
	Service string // the resource's service.name
	Scope   string
	Record  *logspb.LogRecord
}

func (c *Collector) read(t testing.TB) []CollectedLog {
	f, err := os.Open(c.File)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var logs []CollectedLog
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var data logspb.LogsData
		if err := protojson.Unmarshal(sc.Bytes(), &data); err != nil {
			continue // a line the exporter is still writing
		}
		for _, rl := range data.ResourceLogs {
			service := ""
			for _, kv := range rl.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					logs = append(logs, CollectedLog{Service: service, Scope: sl.GetScope().GetName(), Record: lr})
				}
			}
		}
	}
	return logs
}
