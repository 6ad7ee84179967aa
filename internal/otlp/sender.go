package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/netlog-go/netlog/internal/transport"
)

// Config describes a Sender.
type Config struct {
	// URL is where the requests are posted: http://host:port/v1/logs or
	// https://….
	URL string
	// Service is the resources' service.name; "" means each record's
	// logger name.
	Service string
	// Gzip compresses each request's body.
	Gzip bool
	// Header is added to each request (an endpoint's API key, say).
	Header http.Header
	// TLS configures https; nil means the system's roots.
	TLS *tls.Config
	// DialTimeout bounds a connect (and a TLS handshake); default 1 s.
	DialTimeout time.Duration
	// WriteTimeout bounds one request, from sending to the answer's end;
	// default 5 s.
	WriteTimeout time.Duration
	// Backoff paces connects after failures, and bounds a Retry-After;
	// normalized by New.
	Backoff transport.Backoff
	// OnRejected, if not nil, is told of records the endpoint took the
	// request of but rejected (an OTLP partial success): their number,
	// the total so far, and the endpoint's message.
	OnRejected func(n, total int64, msg string)
	// Now is the clock for timestamps and backoff; nil means time.Now.
	Now func() time.Time
}

// Sender posts frames to an OTLP/HTTP endpoint, one export request per
// WriteFrames. A 2xx answer delivers the request's frames; 429, 502, 503,
// 504 and network errors leave them to be tried again (no earlier than a
// Retry-After asks, within the backoff's cap); any other answer refuses
// them (transport.Refusal), as the OTLP specification says not to retry
// it. It is safe for concurrent use.
type Sender struct {
	cfg       Config
	client    *http.Client
	transport *http.Transport
	dialer    *transport.Dialer

	mu         sync.Mutex
	retryAfter time.Time // the endpoint's Retry-After: no request before this

	rejected atomic.Int64
}

// New makes a Sender; it connects on the first write.
func New(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("otlp: URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("otlp: URL %q: want http://host:port/… or https://…", cfg.URL)
	}
	if cfg.Backoff, err = cfg.Backoff.Normalize(); err != nil {
		return nil, err
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sender{cfg: cfg}
	address := hostPort(u)
	s.dialer = &transport.Dialer{
		Dial: func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", address)
		},
		Timeout: cfg.DialTimeout, Backoff: cfg.Backoff, Now: cfg.Now,
	}
	// Every connection goes through the Dialer, as a Link's do: its
	// backoff paces connects, and it counts them. No proxy: the Dialer
	// connects to the endpoint itself.
	s.transport = &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return s.dialer.Connect(ctx) },
		TLSClientConfig:     cfg.TLS,
		TLSHandshakeTimeout: cfg.DialTimeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
	s.client = &http.Client{Transport: s.transport}
	return s, nil
}

// hostPort is u's host with the scheme's port if it names none.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// Write delivers one frame in a request of its own.
func (s *Sender) Write(ctx context.Context, frame []byte) error {
	ends := [1]int{len(frame)}
	_, err := s.WriteFrames(ctx, frame, ends[:])
	return err
}

// WriteFrames posts the frames in one request. If the endpoint refuses
// it, each frame is posted alone, so that the refusal falls on the frame
// it is about (one over the endpoint's size limit, say) and the frames
// before it are delivered.
func (s *Sender) WriteFrames(ctx context.Context, b []byte, ends []int) (int, error) {
	if len(ends) == 0 {
		return 0, nil
	}
	if err := s.backingOff(); err != nil {
		return 0, err
	}
	err := s.post(ctx, b, ends)
	if err == nil {
		return len(ends), nil
	}
	if len(ends) == 1 || !errors.Is(err, transport.ErrRefused) {
		return 0, err
	}
	start := 0
	for i, end := range ends {
		one := [1]int{end - start}
		if err := s.post(ctx, b[start:end], one[:]); err != nil {
			return i, err
		}
		start = end
	}
	return len(ends), nil
}

// backingOff returns an error wrapping transport.ErrBackingOff while the
// endpoint's Retry-After lasts.
func (s *Sender) backingOff() error {
	s.mu.Lock()
	at := s.retryAfter
	s.mu.Unlock()
	if s.cfg.Now().Before(at) {
		return fmt.Errorf("%w until %s (the endpoint's Retry-After)", transport.ErrBackingOff, at.Format(time.RFC3339Nano))
	}
	return nil
}

// post sends one export request of the frames and reads the answer.
func (s *Sender) post(ctx context.Context, b []byte, ends []int) error {
	// A new buffer each time: the http.Transport may still read a body
	// after Do returns (an early answer), so none is reused.
	body := Request(b, ends, s.cfg.Service, uint64(s.cfg.Now().UnixNano()))
	if s.cfg.Gzip {
		body = compress(body)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, vs := range s.cfg.Header {
		hreq.Header[k] = vs
	}
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	if s.cfg.Gzip {
		hreq.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := s.client.Do(hreq)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // not the URL again: the handler's errors name it
		}
		return fmt.Errorf("request: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil && resp.StatusCode/100 == 2 {
		return fmt.Errorf("reading the answer: %w", err) // taken or not: it goes again
	}
	return s.outcome(resp, answer)
}

// maxAnswer bounds the bytes of an answer read: an OTLP answer is small.
const maxAnswer = 64 << 10

var gzips = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// compress returns body gzipped, in a new buffer.
func compress(body []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(body)/4 + 64)
	zw := gzips.Get().(*gzip.Writer)
	zw.Reset(&out)
	zw.Write(body) // a bytes.Buffer does not fail
	zw.Close()
	gzips.Put(zw)
	return out.Bytes()
}

// outcome reads the endpoint's answer to a request.
func (s *Sender) outcome(resp *http.Response, answer []byte) error {
	code := resp.StatusCode
	switch {
	case code/100 == 2:
		if n, msg := partialSuccess(answer); n > 0 && s.cfg.OnRejected != nil {
			s.cfg.OnRejected(n, s.rejected.Add(n), msg)
		}
		return nil
	case code == http.StatusTooManyRequests, code == http.StatusBadGateway,
		code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
		s.retryLater(resp.Header.Get("Retry-After"))
		return fmt.Errorf("the endpoint answered %s: %s", resp.Status, statusText(resp, answer))
	}
	return &transport.Refusal{Err: fmt.Errorf("%w: the endpoint answered %s: %s", transport.ErrRefused, resp.Status, statusText(resp, answer))}
}

// retryLater honours a Retry-After (seconds or an HTTP date), up to the
// backoff's cap.
func (s *Sender) retryLater(header string) {
	if header == "" {
		return
	}
	now := s.cfg.Now()
	var d time.Duration
	if secs, err := strconv.Atoi(header); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(header); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return
	}
	s.mu.Lock()
	s.retryAfter = now.Add(min(d, s.cfg.Backoff.Max))
	s.mu.Unlock()
}

// partialSuccess reads an ExportLogsServiceResponse's partial_success:
// the records rejected, and why.
func partialSuccess(answer []byte) (int64, string) {
	ps, ok := field(answer, 1, protowire.BytesType)
	if !ok {
		return 0, ""
	}
	var n int64
	if v, ok := field(ps, 1, protowire.VarintType); ok {
		u, _ := protowire.ConsumeVarint(v)
		n = int64(u)
	}
	msg, _ := field(ps, 2, protowire.BytesType)
	return n, string(msg)
}

// statusText is the message of an error answer: a google.rpc.Status's
// message when the endpoint sent one (OTLP's error body), else the start
// of the body's text.
func statusText(resp *http.Response, answer []byte) string {
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-protobuf") {
		if msg, ok := field(answer, 2, protowire.BytesType); ok {
			return string(msg)
		}
	}
	text := strings.TrimSpace(strings.ToValidUTF8(string(answer[:min(len(answer), 256)]), "?"))
	if text == "" {
		return "no message"
	}
	return text
}

// field returns the last field num of type typ in the protobuf message m:
// a varint's bytes, or a length-delimited field's contents.
func field(m []byte, num protowire.Number, typ protowire.Type) ([]byte, bool) {
	var out []byte
	found := false
	for len(m) > 0 {
		n, t, k := protowire.ConsumeTag(m)
		if k < 0 {
			return nil, false
		}
		m = m[k:]
		size := protowire.ConsumeFieldValue(n, t, m)
		if size < 0 {
			return nil, false
		}
		if n == num && t == typ {
			out, found = m[:size], true
			if t == protowire.BytesType {
				out, _ = protowire.ConsumeBytes(m[:size])
			}
		}
		m = m[size:]
	}
	return out, found
}

// RetryAt is when the next request may be made: after failed connects,
// or when the endpoint's Retry-After ends.
func (s *Sender) RetryAt() time.Time {
	s.mu.Lock()
	at := s.retryAfter
	s.mu.Unlock()
	if d := s.dialer.RetryAt(); d.After(at) {
		return d
	}
	return at
}

// Rejected returns how many records the endpoint took but rejected.
func (s *Sender) Rejected() int64 { return s.rejected.Load() }

// Close closes the idle connections; a request in flight finishes.
func (s *Sender) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// Connects returns how many connections were opened.
func (s *Sender) Connects() uint64 { return s.dialer.Connects() }

// ConnectFailures returns how many connect attempts failed.
func (s *Sender) ConnectFailures() uint64 { return s.dialer.ConnectFailures() }

var _ transport.Sender = (*Sender)(nil)
