// Package email is klaxon's SMTP email channel, built on
// github.com/wneessen/go-mail.
//
// # Transport
//
// The TLS policy is explicit (Config.TLS): "starttls" requires STARTTLS
// (never a silent fallback to cleartext), "tls" is implicit TLS (port 465),
// "none" is cleartext and only for local relays. New refuses AUTH over
// cleartext unless smtp_host is a loopback address. Each Send dials a fresh
// connection with the send's context, so cancellation and the per-attempt
// timeout (Config.Timeout) reach the socket.
//
// # Messages
//
// The subject is "[SEVERITY] Alert: RULE NAME" (RFC 2047-encoded when not
// ASCII). Every mail is multipart/alternative (text/plain, then text/html)
// and carries its own Message-ID, <fingerprint.sequence.random@domain>,
// where domain is the From address's domain. The first mail's Message-ID is
// returned as notify.Receipt.Thread; later mails of the same alert (a
// non-empty notify.Notification.Thread) carry In-Reply-To and References,
// keep the subject behind "Re: " and open their body with the new state
// ("Resolved", "Acknowledged by NAME"), so mail clients show one thread.
// The thread handle is the list of msg-ids sent so far (the first and the
// latest few), so References grows as a proper chain.
//
// # Errors
//
// SMTP 4xx replies, connection errors and timeouts are retryable; 5xx
// replies are notify.Permanent, as are certificate failures and a server
// without STARTTLS or the configured AUTH mechanism. Refused recipients
// are reported per address (RecipientsError). A message is sent only when
// no recipient was refused temporarily, so a retry never duplicates it; when
// some recipients are refused permanently the others still get the mail and
// Send returns a permanent error naming the refused ones.
package email

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/klaxonhq/klaxon/notify"
)

// Type is the channel type name in configuration.
const Type = "email"

// Channel sends notifications as email. It is safe for concurrent use: every
// Send uses its own connection.
type Channel struct {
	name   string
	cfg    Config
	from   *mail.Address
	to     []*mail.Address
	domain string
	tls    *tls.Config
	auth   gomail.SMTPAuthType
	now    func() time.Time
	log    *slog.Logger
}

var (
	_ notify.Channel = (*Channel)(nil)
	_ notify.Typed   = (*Channel)(nil)
)

// Option configures a Channel beyond its Config: values that exist only in
// Go (test seams, logger).
type Option func(*options)

type options struct {
	now      func() time.Time
	log      *slog.Logger
	tls      *tls.Config
	hostname string
}

// WithClock sets the clock used for the Date header; default time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger; default discards. The channel logs each send
// at debug level and never logs the password.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithTLSConfig sets the base TLS configuration (tests: a pool trusting a
// test server's certificate). It is cloned; ca_file and
// insecure_skip_verify still apply on top, and ServerName defaults to
// smtp_host.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// WithHostname sets the domain on the right of generated Message-IDs;
// default the From address's domain.
func WithHostname(h string) Option { return func(o *options) { o.hostname = h } }

// New validates cfg, applies its defaults, reads ca_file and returns the
// channel called name. It refuses AUTH over cleartext (tls: none) to a host
// that is not loopback.
func New(name string, cfg Config, opts ...Option) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("email channel %q: %w", name, err)
	}
	cfg = cfg.WithDefaults()
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	c := &Channel{name: name, cfg: cfg, now: o.now, log: o.log.With("channel", name, "type", Type)}
	c.from, _ = parseAddress(cfg.From) // Validate checked it.
	for _, t := range cfg.To {
		a, _ := parseAddress(t)
		c.to = append(c.to, a)
	}
	c.domain = messageIDDomain(c.from)
	if o.hostname != "" {
		c.domain = cleanDomain(o.hostname)
	}
	if cfg.TLS != TLSNone {
		tc, err := cfg.tlsConfig(o.tls)
		if err != nil {
			return nil, fmt.Errorf("email channel %q: %w", name, err)
		}
		c.tls = tc
	}
	if cfg.Username != "" {
		c.auth = authType(cfg.Auth, cfg.TLS == TLSNone)
	}
	return c, nil
}

// authType maps the Auth key to go-mail's mechanism. Over cleartext (which
// Validate allows only to loopback hosts) the NoEnc variants are needed,
// because go-mail's own check only knows "localhost", 127.0.0.1 and ::1.
func authType(auth string, cleartext bool) gomail.SMTPAuthType {
	switch auth {
	case AuthLogin:
		if cleartext {
			return gomail.SMTPAuthLoginNoEnc
		}
		return gomail.SMTPAuthLogin
	case AuthCRAMMD5:
		return gomail.SMTPAuthCramMD5
	}
	if cleartext {
		return gomail.SMTPAuthPlainNoEnc
	}
	return gomail.SMTPAuthPlain
}

// Type returns "email".
func (c *Channel) Type() string { return Type }

// Name returns the channel's configured name.
func (c *Channel) Name() string { return c.name }

// Format prints the channel without its secrets for every verb (%v, %+v,
// %#v, %s): its name, server, TLS policy and recipients.
func (c Channel) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "email.Channel{name: %q, server: %q, tls: %q, auth: %q, from: %q, to: %d}",
		c.name, net.JoinHostPort(c.cfg.SMTPHost, strconv.Itoa(c.cfg.SMTPPort)), c.cfg.TLS, c.cfg.Auth,
		c.from.Address, len(c.to))
}

// LogValue makes slog print the channel like Format.
func (c *Channel) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.name), slog.String("type", Type),
		slog.String("server", net.JoinHostPort(c.cfg.SMTPHost, strconv.Itoa(c.cfg.SMTPPort))))
}

// Send renders n and delivers it over a fresh SMTP connection. It returns
// the final reply (250) and, in Receipt.Thread, the thread handle for the
// alert's later mails. Errors are classified as described in the package
// documentation and never contain the password.
func (c *Channel) Send(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
	if n == nil || len(n.Alerts) == 0 {
		return notify.Receipt{}, notify.Permanent(ErrNoAlerts)
	}
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, fmt.Errorf("send: %w", context.Cause(ctx))
	}
	b, err := c.buildMessage(n, c.now())
	if err != nil {
		return notify.Receipt{}, notify.Permanent(err)
	}
	actx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, ErrTimeout)
	defer cancel()
	start := time.Now()
	code, detail, err := c.deliver(actx, b.msg)
	if err != nil {
		err = scrub(c.cfg.Password, classify(actx, err))
		c.log.DebugContext(ctx, "email not sent", "message_id", b.id, "event", n.Event,
			"error", notify.Describe(err), "latency", time.Since(start))
		return notify.Receipt{StatusCode: code}, err
	}
	c.log.DebugContext(ctx, "email sent", "message_id", b.id, "event", n.Event, "recipients", len(c.to),
		"reply", detail, "latency", time.Since(start))
	return notify.Receipt{StatusCode: code, Detail: detail, Thread: b.thread}, nil
}

// deliver runs one SMTP transaction: connect (TLS, AUTH), MAIL FROM, RCPT TO
// for each recipient, DATA. It returns the last reply code and the final
// reply ("250 2.0.0 queued as X").
func (c *Channel) deliver(ctx context.Context, m *gomail.Msg) (int, string, error) {
	var guard connGuard
	defer guard.release()
	client, err := gomail.NewClient(c.cfg.SMTPHost, c.clientOptions(ctx, &guard)...)
	if err != nil {
		return 0, "", fmt.Errorf("configure client: %w", err)
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return codeOf(err), "", setupErr(err)
	}
	defer func() { _ = sc.Close() }()

	from, err := m.GetSender(false)
	if err != nil {
		return 0, "", fmt.Errorf("sender: %w", err)
	}
	if err := sc.Mail(from); err != nil {
		return codeOf(err), "", smtpErr("MAIL FROM", err)
	}
	rcpts, err := m.GetRecipients()
	if err != nil {
		return 0, "", fmt.Errorf("recipients: %w", err)
	}
	var (
		rejected []Rejection
		accepted []string
		last     int
	)
	for _, r := range rcpts {
		err := sc.Rcpt(r)
		if err == nil {
			accepted = append(accepted, r)
			continue
		}
		se, ok := smtpErr("RCPT TO", err).(*SMTPError)
		if !ok {
			// Not a reply: the connection broke. Retry everything.
			return 0, "", fmt.Errorf("RCPT TO %s: %w", r, err)
		}
		last = se.Code
		rejected = append(rejected, Rejection{Address: strings.Trim(r, "<>"), Err: se})
	}
	if len(rejected) > 0 {
		rerr := &RecipientsError{Rejected: rejected}
		if anyTemporary(rejected) || len(accepted) == 0 {
			_ = sc.Reset()
			return last, "", rerr
		}
		// Only permanent refusals: deliver to the others (a retry could
		// not reach the refused ones anyway), then report them.
		code, _, err := c.data(sc, m)
		if err != nil {
			return code, "", err
		}
		_ = sc.Quit()
		for _, a := range accepted {
			rerr.Delivered = append(rerr.Delivered, strings.Trim(a, "<>"))
		}
		return last, "", rerr
	}
	code, detail, err := c.data(sc, m)
	if err != nil {
		return code, "", err
	}
	_ = sc.Quit()
	return code, detail, nil
}

func anyTemporary(rs []Rejection) bool {
	for _, r := range rs {
		if r.Err.Temporary() {
			return true
		}
	}
	return false
}

// data sends the DATA command and the message.
func (c *Channel) data(sc *smtp.Client, m *gomail.Msg) (int, string, error) {
	w, err := sc.Data()
	if err != nil {
		return codeOf(err), "", smtpErr("DATA", err)
	}
	if _, err := m.WriteTo(w); err != nil {
		_ = w.Close()
		return 0, "", fmt.Errorf("write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return codeOf(err), "", smtpErr("DATA", err)
	}
	detail := "250"
	if dc, ok := w.(*smtp.DataCloser); ok {
		if resp := strings.TrimSpace(dc.ServerResponse()); resp != "" {
			detail += " " + truncate(resp, 200)
		}
	}
	return 250, detail, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// codeOf returns the SMTP reply code carried by err, or 0.
func codeOf(err error) int {
	if se, ok := smtpErr("", err).(*SMTPError); ok {
		return se.Code
	}
	return 0
}

// clientOptions configures go-mail for one attempt. The dial function
// registers the connection with guard so ctx reaches it.
func (c *Channel) clientOptions(ctx context.Context, guard *connGuard) []gomail.Option {
	implicit := c.cfg.TLS == TLSImplicit
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := guard.watch(ctx, raw)
		if !implicit {
			return conn, nil
		}
		tc := tls.Client(conn, c.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		return tc, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(c.cfg.SMTPPort),
		gomail.WithTimeout(c.cfg.Timeout),
		gomail.WithDialContextFunc(dial),
	}
	if c.cfg.HelloName != "" {
		opts = append(opts, gomail.WithHELO(c.cfg.HelloName))
	}
	switch c.cfg.TLS {
	case TLSImplicit:
		// The dial function already speaks TLS; WithSSL stops go-mail from
		// also trying STARTTLS.
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(c.tls))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(c.tls))
	}
	if c.auth != "" {
		opts = append(opts, gomail.WithSMTPAuth(c.auth), gomail.WithUsername(c.cfg.Username),
			gomail.WithPassword(c.cfg.Password.Reveal()))
	}
	return opts
}

// connGuard ties a connection to a context: when the context ends, the
// connection's deadline moves to the past, which unblocks any read or
// write, and later deadline updates by go-mail cannot move it back.
//
// go-mail does not close the connection when the session setup fails after
// the dial (no STARTTLS, AUTH refused), so release closes every connection
// the attempt opened; closing an already closed one is harmless.
type connGuard struct {
	stops []func() bool
	conns []net.Conn
}

func (g *connGuard) watch(ctx context.Context, raw net.Conn) net.Conn {
	cc := &ctxConn{Conn: raw, ctx: ctx}
	g.stops = append(g.stops, context.AfterFunc(ctx, cc.expire))
	g.conns = append(g.conns, raw)
	if dl, ok := ctx.Deadline(); ok {
		_ = cc.SetDeadline(dl)
	}
	return cc
}

func (g *connGuard) release() {
	for _, stop := range g.stops {
		stop()
	}
	for _, c := range g.conns {
		_ = c.Close()
	}
}

// aLongTimeAgo is a deadline that has passed.
var aLongTimeAgo = time.Unix(1, 0)

// ctxConn is a net.Conn whose deadlines never extend past its context's
// deadline, and which expires when its context ends.
type ctxConn struct {
	net.Conn
	ctx context.Context
	mu  sync.Mutex
}

func (c *ctxConn) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.Conn.SetDeadline(aLongTimeAgo)
}

func (c *ctxConn) clamp(t time.Time) time.Time {
	if c.ctx.Err() != nil {
		return aLongTimeAgo
	}
	if dl, ok := c.ctx.Deadline(); ok && (t.IsZero() || t.After(dl)) {
		return dl
	}
	return t
}

// SetDeadline sets both deadlines, clamped to the context.
func (c *ctxConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetDeadline(c.clamp(t))
}

// SetReadDeadline sets the read deadline, clamped to the context.
func (c *ctxConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetReadDeadline(c.clamp(t))
}

// SetWriteDeadline sets the write deadline, clamped to the context.
func (c *ctxConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetWriteDeadline(c.clamp(t))
}
