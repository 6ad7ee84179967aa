package netlog

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

	nlmail "github.com/netlog-go/netlog/internal/mail"
	"github.com/netlog-go/netlog/internal/spool"
	"github.com/netlog-go/netlog/internal/transport"
	"github.com/netlog-go/netlog/record"
)

// SMTPSecurity is how the connection to the mail server is protected.
type SMTPSecurity string

// SMTP security modes: see SMTPOptions.Security.
const (
	STARTTLS    SMTPSecurity = SMTPSecurity(nlmail.STARTTLS)    // plain connection upgraded with STARTTLS, which the server must offer
	ImplicitTLS SMTPSecurity = SMTPSecurity(nlmail.ImplicitTLS) // TLS from the first byte (RFC 8314)
	Plaintext   SMTPSecurity = SMTPSecurity(nlmail.Plaintext)   // no encryption; never with a password
)

// SMTPOptions configure an SMTP handler. Of the embedded Options, Level is
// the least level handled (default Info), Name the logger name shown,
// DialTimeout the SMTP timeout (default 5 s) and Backoff the retry
// schedule; Codec, WriteTimeout, MaxDatagram and Async do not apply.
// OnError is told of every email that failed for good (rate-limited as
// for every handler) and of records refused because the queue was full.
type SMTPOptions struct {
	Options
	From string   // sender address
	To   []string // one or more recipients
	// Subject is the subject of every email; SubjectFunc, if set, makes
	// it from the triggering record instead (Python's getSubject). The
	// default is "LEVEL name: message".
	Subject     string
	SubjectFunc func(r slog.Record) string
	// Username and Password, if set, authenticate with the best mechanism
	// the server offers (SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN,
	// LOGIN), only ever over TLS.
	Username, Password string
	// Security is STARTTLS (the default; port 587), ImplicitTLS (the
	// default on port 465; RFC 8314) or Plaintext (port 25; never with a
	// password). With STARTTLS a server that does not offer it is an
	// error, not a downgrade.
	Security SMTPSecurity
	// Trigger is the level at and above which a record sends an email
	// (default Error); the records below it, down to Level, are kept as
	// context: the last Context of them (default 100) go in the email
	// after the record that triggered it.
	Trigger slog.Leveler
	Context int
	// PerRecord sends one email per record at or above Level, with no
	// context: Python's SMTPHandler.
	PerRecord bool
	// MaxEmails emails at most are sent per Per (default 10 per minute);
	// alerts that come while the limit holds are gathered into the next
	// email, which says how many it holds.
	MaxEmails int
	Per       time.Duration
	// Queue bounds the records waiting for the sender (default 1024);
	// a record that finds it full is refused and counted.
	Queue int
}

// smtpHandler sends alert emails. Handle only enqueues; one goroutine
// composes and sends.
type smtpHandler struct {
	m *mailer
	flatAttrs
}

type queued struct {
	h *smtpHandler
	r slog.Record
}

// mailer is what an SMTP handler and those derived from it share; the
// fields after "loop state" belong to the sending goroutine.
type mailer struct {
	c           *core // level, ReplaceAttr, built-ins
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

// NewSMTPHandler returns a handler that emails alerts through mailhost
// ("host" or "host:port"). A bad host, address, security mode, or
// credentials without TLS is an error at construction.
func NewSMTPHandler(mailhost string, opts *SMTPOptions) (Handler, error) {
	if opts == nil {
		opts = &SMTPOptions{}
	}
	m, err := newMailer(mailhost, opts)
	if err != nil {
		return nil, fmt.Errorf("netlog: smtp %s: %w", mailhost, err)
	}
	go m.loop()
	return &smtpHandler{m: m}, nil
}

func newMailer(mailhost string, o *SMTPOptions) (*mailer, error) {
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
	tc, err := clientTLS(host, &o.Options)
	if err != nil {
		return nil, err
	}
	cfg := nlmail.Config{Host: host, Port: port, Security: nlmail.Security(o.Security), Username: o.Username,
		Password: o.Password, TLS: tc, Timeout: o.DialTimeout}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	backoff, err := o.Backoff.internal().Normalize()
	if err != nil {
		return nil, err
	}
	c, err := newCore(&o.Options, "smtp "+mailhost, nil, 0)
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
	m.errFull = newError(c.dest, CauseDropped, 1, spool.ErrFull)
	m.errClosed = newError(c.dest, CauseDropped, 1, spool.ErrClosed)
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
	return level >= h.m.c.level.Level()
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
		m.c.errs.report(CauseDropped, 1, m.errFull)
		return m.errFull
	}
}

// WithAttrs returns a handler whose records carry attrs, formatted once now.
func (h *smtpHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &smtpHandler{h.m, h.withAttrs(attrs, h.m.c.replace, emailLines{})}
}

// WithGroup returns a handler whose later attributes are named "name.key".
func (h *smtpHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &smtpHandler{h.m, h.withGroup(name)}
}

// Stats returns the handler's counters. It queues every record it
// handles: Handled = Enqueued = Mailed + Failed + Discarded +
// Dropped.Total() + Pending, where Failed counts the records of emails
// that failed for good and Dropped those refused (queue full, or closed).
func (h *smtpHandler) Stats() Stats {
	m := h.m
	st := Stats{
		Handled: m.handled.Load(), Enqueued: m.handled.Load(), Failed: m.failed.Load(),
		Dropped: Drops{Newest: m.full.Load(), Closed: m.refused.Load()}, Emails: m.emails.Load(),
		Written: m.mailed.Load(), Mailed: m.mailed.Load(), Retries: m.retries.Load(),
		Discarded: m.discarded.Load(), Pending: uint64(len(m.q)) + m.held.Load(),
	}
	st.LastError, st.LastErrorTime = m.c.errs.lastError()
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
		return newError(h.m.c.dest, CauseWrite, int(n), fmt.Errorf("%d records not sent", n))
	}
	return nil
}

// Close refuses new records, sends what is pending within ctx
// (DefaultCloseTimeout if it has no deadline), stops the sender and
// returns by ctx's deadline, with an error saying what was not sent.
func (h *smtpHandler) Close(ctx context.Context) error {
	ctx, cancel := closeContext(ctx)
	defer cancel()
	m := h.m
	defer m.c.errs.wait(ctx)
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
		m.c.errs.report(causeOf(err), d.records, fmt.Errorf("%d records not sent: %w", d.records, err))
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
		subject = d.first.Level.String() + " " + m.c.name + ": " + d.first.Message
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
	extras, level := m.c.fill(&e, &it.r, nil)
	b := m.buf[:0]
	b = append(b, "--- "...)
	b = append(b, e.LevelName...)
	b = append(b, ' ')
	b = append(b, e.Name...)
	b = append(b, ": "...)
	first, _, _ := strings.Cut(e.Msg, "\n")
	b = append(append(b, first...), '\n')
	if !e.Created.IsZero() {
		b = emailLines{}.param(b, "", "time", slog.TimeValue(e.Created))
	}
	b = emailLines{}.param(b, "", "level", slog.StringValue(e.LevelName))
	b = emailLines{}.param(b, "", "logger", slog.StringValue(e.Name))
	b = emailLines{}.param(b, "", "msg", slog.StringValue(e.Msg))
	if e.Lineno > 0 {
		b = emailLines{}.param(b, "", "source", slog.StringValue(e.Pathname+":"+strconv.Itoa(e.Lineno)+" "+e.FuncName))
	}
	for _, a := range extras {
		b = appendFlat(b, "", a, nil, nil, emailLines{})
	}
	b = it.h.appendRecord(b, it.r, m.c.replace, emailLines{})
	m.buf = b
	return string(b), level
}

// emailLines writes an attribute as a "name: value" line; a value that is
// empty, has a line break or a control character, or starts or ends with
// a space is Go-quoted.
type emailLines struct{}

func (emailLines) taken(string) bool { return false }

func (emailLines) param(b []byte, prefix, key string, v slog.Value) []byte {
	b = append(append(append(b, prefix...), key...), ": "...)
	return append(record.AppendValue(flatValue{mode: lineValue}, b, v), '\n')
}
