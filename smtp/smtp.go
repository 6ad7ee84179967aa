// Package smtp is netlog's SMTP handler: it emails alerts with the
// records that led to them, over verified TLS, without mail storms and
// without blocking the caller — Python's SMTPHandler, made safe for
// production.
//
// It is a package of its own so that a program that does not send email
// does not link an SMTP client. Importing it also makes netlog.Open know
// the smtp:// and smtps:// schemes, as importing a database/sql driver
// makes sql.Open know its name:
//
//	import _ "github.com/netlog-go/netlog/smtp"
//
//	h, err := netlog.Open("smtps://alerts@mail.example.com?from=alerts@example.com&to=oncall@example.com&password-env=SMTP_PASSWORD", nil)
//
// docs/urls.md lists the URL's parameters.
package smtp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/netlog-go/netlog"
	"github.com/netlog-go/netlog/internal/flat"
	nlmail "github.com/netlog-go/netlog/internal/mail"
	"github.com/netlog-go/netlog/internal/plug"
	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/internal/tlsconf"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// Security is how the connection to the mail server is protected.
type Security string

// The security modes: see Options.Security.
const (
	STARTTLS    Security = Security(nlmail.STARTTLS)    // plain connection upgraded with STARTTLS, which the server must offer
	ImplicitTLS Security = Security(nlmail.ImplicitTLS) // TLS from the first byte (RFC 8314)
	Plaintext   Security = Security(nlmail.Plaintext)   // no encryption; never with a password
)

// Options configure an SMTP handler. Of the embedded netlog.Options,
// Level is the least level handled (default Info), Name the logger name
// shown, AddSource and ReplaceAttr apply as for every handler,
// DialTimeout bounds the whole SMTP exchange (default 5 s), Backoff is
// the retry schedule of an email that failed for a reason that may pass,
// and TLS the client side of TLS (see Security); Codec, WriteTimeout,
// MaxDatagram and Async do not apply and are refused: it always sends in
// the background. OnError is told of every email that failed for good
// (rate-limited as for every handler) and of records refused because the
// queue was full.
type Options struct {
	netlog.Options
	// From is the sender's address.
	From string
	// To lists one or more recipients.
	To []string
	// Subject is the subject of every email; SubjectFunc, if set, makes
	// it from the triggering record instead (Python's getSubject). The
	// default is "LEVEL name: message".
	Subject string
	// SubjectFunc: see Subject.
	SubjectFunc func(r slog.Record) string
	// Username and Password, if set, authenticate with the best mechanism
	// the server offers (SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN,
	// LOGIN), only ever over TLS.
	Username, Password string
	// Security is STARTTLS (the default; port 587), ImplicitTLS (the
	// default on port 465; RFC 8314) or Plaintext (port 25; never with a
	// password). With STARTTLS a server that does not offer it is an
	// error, not a downgrade.
	Security Security
	// Trigger is the level at and above which a record sends an email
	// (default Error); the records below it, down to Level, are kept as
	// context: the last Context of them (default 100; negative for none)
	// go in the email after the record that triggered it.
	Trigger slog.Leveler
	// Context: see Trigger.
	Context int
	// PerRecord sends one email per record at or above Level, with no
	// context: Python's SMTPHandler.
	PerRecord bool
	// MaxEmails emails at most are sent per Per (default 10 per minute);
	// alerts that come while the limit holds are gathered into the next
	// email, which says how many it holds.
	MaxEmails int
	// Per: see MaxEmails.
	Per time.Duration
	// Queue bounds the records waiting for the sender (default 1024);
	// a record that finds it full is refused with netlog.ErrQueueFull,
	// and counted.
	Queue int
}

// smtpHandler sends alert emails. Handle only enqueues; one goroutine
// composes and sends.
type smtpHandler struct {
	m *mailer
	flat.Attrs
}

type queued struct {
	h *smtpHandler
	r slog.Record
}

// mailer is what an SMTP handler and those derived from it share; the
// fields after "loop state" belong to the sending goroutine.
type mailer struct {
	c           plug.Core // level, ReplaceAttr, built-ins, errors
	trigger     slog.Leveler
	perRecord   bool
	cfg         nlmail.Config
	from        string
	to          []string
	subject     string
	subjectFunc func(slog.Record) string
	backoff     transport.Backoff
	now         func() time.Time

	q       chan queued
	flushes chan chan struct{}
	stop    chan struct{}
	done    chan struct{}
	ctx     context.Context // cancelled when Close gives up
	cancel  context.CancelFunc
	closed  atomic.Bool

	handled, full, refused, emails, mailed, failed, retries, discarded atomic.Uint64
	errFull, errClosed                                                 error // made once: refusing records in a storm must not allocate

	held   atomic.Uint64 // records the loop holds: context and the next email
	unsent atomic.Uint64 // of held, those in the next email

	// loop state
	limiter  nlmail.Limiter
	ring     []string // context, oldest first
	pending  *digest
	failures int
	retryAt  time.Time
	buf      []byte
}

// digest is the next email: alerts, each a triggering record with the
// context that preceded it.
type digest struct {
	listed  []alert // the alerts written into the email
	alerts  int     // all alerts it holds, listed or not
	records int     // all records it holds, shown or not
	shown   int
	first   slog.Record
}

type alert struct {
	trigger string
	context []string
}

// maxShown bounds the records written into one email; the rest of a storm
// is counted in it, not listed.
const maxShown = 2000

// NewHandler returns a handler that emails alerts through mailhost
// ("host" or "host:port"). Handle only queues the record; one goroutine
// composes and sends the emails. A bad host, address, security mode, or
// credentials without TLS is an error at construction.
func NewHandler(mailhost string, opts *Options) (netlog.Handler, error) {
	if opts == nil {
		opts = &Options{}
	}
	m, err := newMailer(mailhost, opts)
	if err != nil {
		return nil, fmt.Errorf("netlog: smtp %s: %w", mailhost, err)
	}
	go m.loop()
	return &smtpHandler{m: m}, nil
}

func newMailer(mailhost string, o *Options) (*mailer, error) {
	switch {
	case o.Codec != "" || o.WriteTimeout != 0 || o.MaxDatagram != 0 || o.Async != nil:
		return nil, errors.New("Codec, WriteTimeout, MaxDatagram and Async do not apply (it always sends in the background; see Stats)")
	case len(o.To) == 0:
		return nil, errors.New("no recipient (To)")
	}
	for _, a := range append([]string{o.From}, o.To...) {
		if _, err := mail.ParseAddress(a); err != nil {
			return nil, fmt.Errorf("address %q: %w", a, err)
		}
	}
	host, port, err := nlmail.ParseHost(mailhost)
	if err != nil {
		return nil, err
	}
	tc := tlsconf.Client(tlsconf.Config(plug.TLSConfig(o.TLS)), host)
	cfg := nlmail.Config{Host: host, Port: port, Security: nlmail.Security(o.Security), Username: o.Username,
		Password: o.Password, TLS: tc, Timeout: o.DialTimeout}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	backoff, err := transport.Backoff(o.Backoff).Normalize()
	if err != nil {
		return nil, err
	}
	c, err := plug.NewCore(&o.Options, "smtp "+mailhost)
	if err != nil {
		return nil, err
	}
	m := &mailer{
		c: c, trigger: o.Trigger, perRecord: o.PerRecord, cfg: cfg, from: o.From, to: o.To,
		subject: o.Subject, subjectFunc: o.SubjectFunc, backoff: backoff,
		now: time.Now, limiter: nlmail.Limiter{Max: orDefault(o.MaxEmails, 10), Per: o.Per},
		q: make(chan queued, orDefault(o.Queue, 1024)), flushes: make(chan chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{}),
		ring: make([]string, 0, orDefault(o.Context, 100)),
	}
	m.errFull = c.Error(1, spool.ErrFull)
	m.errClosed = c.Error(1, spool.ErrClosed)
	if m.trigger == nil {
		m.trigger = slog.LevelError
	}
	if m.limiter.Per == 0 {
		m.limiter.Per = time.Minute
	}
	if o.Context < 0 || m.perRecord {
		m.ring = nil
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Enabled reports whether level is at or above the handler's Level.
func (h *smtpHandler) Enabled(_ context.Context, level slog.Level) bool {
	return h.m.c.Enabled(level)
}

// Handle enqueues r for the sender and returns at once. A full queue or
// a closed handler refuses it with an error, and counts it.
func (h *smtpHandler) Handle(_ context.Context, r slog.Record) error {
	m := h.m
	m.handled.Add(1)
	if m.closed.Load() {
		m.refused.Add(1)
		return m.errClosed
	}
	select {
	case m.q <- queued{h, r.Clone()}:
		return nil
	default:
		m.full.Add(1)
		m.c.Report(m.errFull)
		return m.errFull
	}
}

// WithAttrs returns a handler whose records carry attrs, formatted once now.
func (h *smtpHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &smtpHandler{h.m, h.With(attrs, h.m.c.Replacer(), flat.Lines{})}
}

// WithGroup returns a handler whose later attributes are named "name.key".
func (h *smtpHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &smtpHandler{h.m, h.Group(name)}
}

// Stats returns the handler's counters. It queues every record it
// handles: Handled = Enqueued = Mailed + Failed + Discarded +
// Dropped.Total() + Pending, where Failed counts the records of emails
// that failed for good and Dropped those refused (queue full, or closed).
func (h *smtpHandler) Stats() netlog.Stats {
	m := h.m
	st := netlog.Stats{
		Handled: m.handled.Load(), Enqueued: m.handled.Load(), Failed: m.failed.Load(),
		Dropped: netlog.Drops{Newest: m.full.Load(), Closed: m.refused.Load()}, Emails: m.emails.Load(),
		Written: m.mailed.Load(), Mailed: m.mailed.Load(), Retries: m.retries.Load(),
		Discarded: m.discarded.Load(), Pending: uint64(len(m.q)) + m.held.Load(),
	}
	st.LastError, st.LastErrorTime = m.c.LastError()
	return st
}

// Flush sends what is pending and returns when it is sent, or, with an
// error saying what is still pending, when ctx is done. The rate limit
// holds: records gathered while it does wait for it.
func (h *smtpHandler) Flush(ctx context.Context) error {
	m := h.m
	done := make(chan struct{})
	select {
	case m.flushes <- done:
	case <-m.done:
		return h.pendingErr()
	case <-ctx.Done():
		return h.pendingErr()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return h.pendingErr()
	}
}

// pendingErr says how many records wait to be sent: queued, or in the
// next email (context with no trigger is not waiting to be sent).
func (h *smtpHandler) pendingErr() error {
	if n := uint64(len(h.m.q)) + h.m.unsent.Load(); n > 0 {
		return h.m.c.Error(int(n), fmt.Errorf("%d records not sent", n))
	}
	return nil
}

// Close refuses new records, sends what is pending within ctx
// (netlog.DefaultCloseTimeout if it has no deadline), stops the sender and
// returns by ctx's deadline, with an error saying what was not sent.
func (h *smtpHandler) Close(ctx context.Context) error {
	m := h.m
	ctx, cancel := m.c.CloseContext(ctx)
	defer cancel()
	defer m.c.Wait(ctx)
	m.closed.Store(true)
	err := h.Flush(ctx)
	m.cancel() // a send still in flight gives up
	select {
	case m.stop <- struct{}{}:
	case <-m.done:
	}
	<-m.done
	if err != nil {
		return err
	}
	return h.pendingErr()
}

// loop is the sender: it takes queued records, keeps context, gathers
// alerts, and sends them as the rate limit and retries allow.
func (m *mailer) loop() {
	defer close(m.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var flushes []chan struct{}
	for {
		select {
		case it := <-m.q:
			m.take(it)
		case f := <-m.flushes:
			flushes = append(flushes, f)
		case <-timer.C:
		case <-m.stop:
			m.discarded.Add(uint64(len(m.ring))) // context no trigger followed
			m.ring = m.ring[:0]
			m.countHeld()
			return
		}
		for drained := false; !drained; { // an alert goes as soon as it may; what waits gathers
			m.trySend()
			select {
			case it := <-m.q:
				m.take(it)
			default:
				drained = true
			}
		}
		if m.pending == nil {
			for _, f := range flushes {
				close(f)
			}
			flushes = nil
		} else {
			now := m.now()
			timer.Reset(max(m.limiter.Next(now).Sub(now), m.retryAt.Sub(now), time.Millisecond))
		}
	}
}

// countHeld publishes how many records the loop holds, for Stats.
func (m *mailer) countHeld() {
	unsent := 0
	if m.pending != nil {
		unsent = m.pending.records
	}
	m.unsent.Store(uint64(unsent))
	m.held.Store(uint64(len(m.ring) + unsent))
}

// take formats a record and files it as context or as an alert.
func (m *mailer) take(it queued) {
	defer m.countHeld()
	text, level := m.format(it)
	if !m.perRecord && level < m.trigger.Level() {
		if m.ring != nil && len(m.ring) == cap(m.ring) {
			m.ring = append(m.ring[:0], m.ring[1:]...)
			m.discarded.Add(1)
		}
		if m.ring != nil {
			m.ring = append(m.ring, text)
		} else {
			m.discarded.Add(1)
		}
		return
	}
	if m.pending == nil {
		m.pending = &digest{first: it.r}
	}
	d := m.pending
	d.alerts++
	d.records += 1 + len(m.ring)
	if d.shown < maxShown {
		d.listed = append(d.listed, alert{trigger: text, context: slices.Clone(m.ring)})
		d.shown += 1 + len(m.ring)
	}
	m.ring = m.ring[:0]
}

// trySend sends the pending digest if the limit and the retry schedule
// allow.
func (m *mailer) trySend() {
	d := m.pending
	if d == nil {
		return
	}
	now := m.now()
	if now.Before(m.retryAt) || now.Before(m.limiter.Next(now)) {
		return
	}
	err := nlmail.Send(m.ctx, &m.cfg, m.compose(d))
	defer m.countHeld()
	switch {
	case err == nil:
		m.limiter.Take(now)
		m.emails.Add(1)
		m.mailed.Add(uint64(d.records))
		m.pending, m.failures, m.retryAt = nil, 0, time.Time{}
	case errors.Is(err, nlmail.ErrTemporary) && m.ctx.Err() == nil:
		m.failures++
		m.retryAt = now.Add(m.backoff.Delay(m.failures))
		m.retries.Add(1)
	default:
		m.failed.Add(uint64(d.records))
		m.pending, m.failures, m.retryAt = nil, 0, time.Time{}
		m.c.Report(m.c.Error(d.records, fmt.Errorf("%d records not sent: %w", d.records, err)))
	}
}

// compose writes the digest as an email: the alerts in order, each with
// the context that preceded it, oldest first.
func (m *mailer) compose(d *digest) *nlmail.Message {
	subject := m.subject
	switch {
	case m.subjectFunc != nil:
		subject = m.subjectFunc(d.first)
	case subject == "":
		subject = d.first.Level.String() + " " + m.c.Name() + ": " + d.first.Message
	}
	var b strings.Builder
	if d.records > 1 {
		fmt.Fprintf(&b, "This email holds %d records", d.records)
		if d.alerts > 1 {
			subject = fmt.Sprintf("[%d alerts, %d records] %s", d.alerts, d.records, subject)
			fmt.Fprintf(&b, " from %d alerts, gathered while at most %d emails per %v may be sent", d.alerts, m.limiter.Max, m.limiter.Per)
		}
		b.WriteString(".\n\n")
	}
	for _, a := range d.listed {
		b.WriteString(a.trigger)
		if len(a.context) > 0 {
			fmt.Fprintf(&b, "\nThe %d records before it, oldest first:\n\n", len(a.context))
			for _, c := range a.context {
				b.WriteString(c)
				b.WriteByte('\n')
			}
		}
		b.WriteByte('\n')
	}
	if hidden := d.records - d.shown; hidden > 0 {
		fmt.Fprintf(&b, "... and %d more records, counted but not shown.\n", hidden)
	}
	return &nlmail.Message{From: m.from, To: m.to, Subject: subject, Body: b.String()}
}

// format writes one record as body lines: a heading, then "key: value"
// lines for time, level, logger, msg, source and every attribute (groups
// as dotted names). It returns the text and the record's level.
func (m *mailer) format(it queued) (string, slog.Level) {
	var e record.Entry
	extras, level := m.c.Fill(&e, &it.r)
	b := m.buf[:0]
	b = append(b, "--- "...)
	b = append(b, e.LevelName...)
	b = append(b, ' ')
	b = append(b, e.Name...)
	b = append(b, ": "...)
	first, _, _ := strings.Cut(e.Msg, "\n")
	b = append(append(b, first...), '\n')
	if !e.Created.IsZero() {
		b = flat.Lines{}.Param(b, "", "time", slog.TimeValue(e.Created))
	}
	b = flat.Lines{}.Param(b, "", "level", slog.StringValue(e.LevelName))
	b = flat.Lines{}.Param(b, "", "logger", slog.StringValue(e.Name))
	b = flat.Lines{}.Param(b, "", "msg", slog.StringValue(e.Msg))
	if e.Lineno > 0 {
		b = flat.Lines{}.Param(b, "", "source", slog.StringValue(e.Pathname+":"+strconv.Itoa(e.Lineno)+" "+e.FuncName))
	}
	for _, a := range extras {
		b = flat.Append(b, "", a, nil, nil, flat.Lines{})
	}
	b = it.h.AppendRecord(b, it.r, m.c.Replacer(), flat.Lines{})
	m.buf = b
	return string(b), level
}
