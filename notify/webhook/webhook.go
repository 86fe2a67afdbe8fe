package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/internal/version"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

// Type is the channel type this package implements.
const Type = "webhook"

// maxAnswer bounds how much of a receiver's answer is kept for the receipt
// or the error; maxDrain bounds how much more is read so the connection can
// be reused.
const (
	maxAnswer = 1 << 10
	maxDrain  = 64 << 10
)

// ErrTimeout matches (with errors.Is) an attempt that ran past the
// configured timeout. Such errors also match context.DeadlineExceeded and are
// retryable.
var ErrTimeout = errors.New("attempt timed out")

// ErrRedirect matches a 3xx answer. Redirects are never followed (a
// redirect could send a signed alert somewhere else); the error is permanent
// and asks for the final URL to be configured.
var ErrRedirect = errors.New("redirects are not followed; configure the final URL")

// ErrNoAlerts is returned (permanent) for a notification without alerts.
var ErrNoAlerts = errors.New("notification has no alerts")

// Channel sends notifications to one webhook endpoint. It is safe for
// concurrent use. Create it with New.
type Channel struct {
	name      string
	url       secret.String
	display   string // scheme://host, safe to show
	method    string
	headers   []header
	keys      [][]byte
	timeout   time.Duration
	format    string
	tmpl      *template.Template
	userAgent string
	client    *http.Client
	// rt, when set, sends instead of client: without a caller's client
	// there is no client policy to apply (redirects are not followed, the
	// attempt's context bounds it), and going straight to the transport
	// spares each send the client's header copying for redirects.
	rt           http.RoundTripper
	now          func() time.Time
	log          *slog.Logger
	secrets      []secret.String // everything scrubbed from errors, longest first
	contentType  bool            // Content-Type set by a custom header
	hasUserAgent bool            // User-Agent set by a custom header
}

// header is one custom request header.
type header struct {
	name  string
	value secret.String
}

var (
	_ notify.Channel = (*Channel)(nil)
	_ notify.Typed   = (*Channel)(nil)
)

// Option configures what a Config cannot: test seams and Go-only values.
type Option func(*options)

type options struct {
	client    *http.Client
	transport http.RoundTripper
	now       func() time.Time
	log       *slog.Logger
}

// WithHTTPClient sends through a copy of client. The copy never follows
// redirects, whatever client.CheckRedirect says; client.Timeout still applies
// on top of the channel's per-attempt timeout.
func WithHTTPClient(client *http.Client) Option {
	return func(o *options) { o.client = client }
}

// WithTransport sends through rt (a test RoundTripper, a proxy-aware
// transport). It is ignored when WithHTTPClient is also given.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.transport = rt }
}

// WithClock sets the clock used for webhook-timestamp and for reading an
// HTTP-date Retry-After; default time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithLogger sets where the channel logs (a warning when body_template fails,
// a debug line per attempt); default: nowhere.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// New validates cfg and returns the channel named name.
func New(name string, cfg Config, opts ...Option) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webhook channel %q: %w", name, err)
	}
	cfg = cfg.WithDefaults()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	c := &Channel{
		name:      name,
		url:       cfg.URL,
		method:    cfg.Method,
		timeout:   cfg.Timeout,
		format:    cfg.Format,
		userAgent: "klaxon/" + version.Version,
		now:       o.now,
		log:       o.log,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With(slog.String("channel", name), slog.String("type", Type))

	u, _ := url.Parse(cfg.URL.Reveal()) // checked by Validate
	c.display = u.Scheme + "://" + u.Host
	c.secrets = urlSecrets(cfg.URL, u)

	names := make([]string, 0, len(cfg.Headers))
	for k := range cfg.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := cfg.Headers[k]
		// Canonical once here, so Send sets each header without
		// canonicalizing (and allocating) its name on every request.
		c.headers = append(c.headers, header{name: http.CanonicalHeaderKey(k), value: v})
		c.secrets = append(c.secrets, v)
		// "Bearer TOKEN": the token alone may be echoed too.
		if _, cred, ok := strings.Cut(v.Reveal(), " "); ok {
			c.secrets = append(c.secrets, secret.New(strings.TrimSpace(cred)))
		}
		switch strings.ToLower(k) {
		case "content-type":
			c.contentType = true
		case "user-agent":
			c.hasUserAgent = true
		}
	}

	seen := map[string]bool{}
	for _, s := range append([]secret.String{cfg.Secret}, cfg.Secrets...) {
		if s.IsZero() {
			continue
		}
		key, _ := decodeSecret(s.Reveal()) // checked by Validate
		if seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		c.keys = append(c.keys, key)
		c.secrets = append(c.secrets, s, secret.New(strings.TrimPrefix(s.Reveal(), secretPrefix)))
	}
	slices.SortFunc(c.secrets, func(a, b secret.String) int { return len(b.Reveal()) - len(a.Reveal()) })

	if cfg.BodyTemplate != "" {
		c.tmpl, _ = parseBodyTemplate(cfg.BodyTemplate) // checked by Validate
	}

	switch {
	case o.client != nil:
		cl := *o.client
		c.client = &cl
	case o.transport != nil:
		c.client = &http.Client{Transport: o.transport}
		c.rt = o.transport
	default:
		t := http.DefaultTransport.(*http.Transport).Clone()
		// The dispatcher sends to one endpoint from several workers; each
		// keeps its connection (up to the most a configuration allows,
		// config.MaxConcurrency), so no send waits for a new one.
		t.MaxIdleConnsPerHost = maxIdlePerHost
		t.MaxIdleConns = maxIdlePerHost // the default's 100 in all would drop some
		c.client = &http.Client{Transport: t}
		c.rt = t
	}
	c.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

// urlSecrets lists the parts of the URL that may carry credentials: the whole
// URL, its user info, path and query (raw and decoded).
func urlSecrets(full secret.String, u *url.URL) []secret.String {
	out := []secret.String{full}
	add := func(s string) {
		if s != "" && s != "/" {
			out = append(out, secret.New(s))
		}
	}
	if u.User != nil {
		add(u.User.Username())
		p, ok := u.User.Password()
		if ok {
			add(p)
		}
		// net/http sends user info as basic auth, which receivers may echo.
		add(base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + p)))
	}
	add(u.EscapedPath())
	add(u.Path)
	add(u.RawQuery)
	for _, vs := range u.Query() {
		for _, v := range vs {
			add(v)
		}
	}
	return out
}

// DefaultConcurrency is how many sends to the receiver run at once unless
// the channel's concurrency says otherwise.
const DefaultConcurrency = 16

// maxIdlePerHost matches config.MaxConcurrency.
const maxIdlePerHost = 128

// DefaultConcurrency returns 16: a receiver over HTTP keep-alive takes
// sends in parallel cheaply, and a burst drains at the pace of its round
// trips, so twice the dispatcher's general default delivers a burst of
// 20,000 alerts 2-8 % sooner on loopback.
func (c *Channel) DefaultConcurrency() int { return DefaultConcurrency }

// Type returns "webhook".
func (c *Channel) Type() string { return Type }

// Name returns the channel's configured name.
func (c *Channel) Name() string { return c.name }

// Format prints the channel without its secrets, for every verb (%v, %+v,
// %#v, %s).
func (c *Channel) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "webhook.Channel{name: %q, method: %s, url: %s/<secret>, format: %s, signed: %t}",
		c.name, c.method, c.display, c.format, len(c.keys) > 0)
}

// LogValue makes slog print the channel without its secrets.
func (c *Channel) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.name), slog.String("type", Type), slog.String("host", c.display))
}

// Send delivers n in one attempt. The body is encoded once and signed per
// attempt: webhook-id is n's idempotency key (the same on every retry),
// webhook-timestamp is now, and webhook-signature covers the exact bytes
// sent. Errors are classified for the dispatcher: 410 is notify.Gone; 408,
// 429, 5xx, timeouts and connection errors are retryable (429 and 503 with
// their Retry-After); 3xx (ErrRedirect) and other 4xx are permanent. No error
// or log line contains the URL's path, query or user info, a header value or
// a signing secret.
func (c *Channel) Send(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
	if n == nil || len(n.Alerts) == 0 {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("webhook %s: %w", c.display, ErrNoAlerts))
	}
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, c.canceled(ctx)
	}
	now := c.now()
	id := messageID(n.IdempotencyKey)
	if id == "" {
		id = messageID(notify.IdempotencyKey(n.Alerts[0].ID, n.Alerts[0].Fingerprint, n.Alerts[0].Sequence, n.Channel))
	}
	body, fellBack, err := c.body(n, id, now)
	if err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("webhook %s: %w", c.display, err))
	}

	actx, cancel := context.WithTimeoutCause(ctx, c.timeout, &timeoutError{after: c.timeout})
	defer cancel()
	req, err := http.NewRequestWithContext(actx, c.method, c.url.Reveal(), bytes.NewReader(body))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("webhook %s %s: build request: %s", c.method, c.display, c.scrub(err.Error())))
	}
	// Header.Set with every name already canonical (Set's own work, less
	// the per-request canonicalization of "webhook-id" and the rest).
	hdr := req.Header
	for _, h := range c.headers {
		hdr[h.name] = []string{h.value.Reveal()}
	}
	if !c.contentType {
		hdr["Content-Type"] = []string{"application/json"}
	}
	if !c.hasUserAgent {
		hdr["User-Agent"] = []string{c.userAgent}
	}
	hdr[canonicalID] = []string{id}
	hdr[canonicalTimestamp] = []string{strconv.FormatInt(now.Unix(), 10)}
	if len(c.keys) > 0 {
		hdr[canonicalSignature] = []string{sign(c.keys, id, now, body)}
	}

	var resp *http.Response
	if c.rt != nil {
		// User info in the URL becomes basic auth, as http.Client does it.
		if u := req.URL.User; u != nil && req.Header.Get("Authorization") == "" {
			password, _ := u.Password()
			req.SetBasicAuth(u.Username(), password)
		}
		resp, err = c.rt.RoundTrip(req)
	} else {
		resp, err = c.client.Do(req)
	}
	if err != nil {
		return notify.Receipt{}, c.transportError(ctx, actx, err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
	text := c.clean(answer)

	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		serr := &notify.StatusError{Code: resp.StatusCode, Body: text}
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("webhook %s %s: %w: %w", c.method, c.display, serr, ErrRedirect))
	}
	if err := notify.CheckHTTPStatus(resp, text, c.now()); err != nil {
		c.log.DebugContext(ctx, "webhook answered with an error", slog.String("webhook_id", id),
			slog.Int("status", resp.StatusCode), slog.Int("attempt", n.Attempt))
		return notify.Receipt{}, fmt.Errorf("webhook %s %s: %w", c.method, c.display, err)
	}
	detail := c.clean([]byte(resp.Status))
	if detail == "" {
		detail = strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	}
	if fellBack {
		detail += " (body_template failed; sent the default body)"
	}
	// Guarded: the arguments would be built (and allocated) for every
	// delivery even with debug logging off.
	if c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.DebugContext(ctx, "webhook delivered", slog.String("webhook_id", id),
			slog.Int("status", resp.StatusCode), slog.Int("attempt", n.Attempt))
	}
	return notify.Receipt{StatusCode: resp.StatusCode, Detail: detail}, nil
}

// body encodes the request body: body_template's output when configured and
// it succeeds, else the format's default body (fellBack reports that case).
func (c *Channel) body(n *notify.Notification, id string, now time.Time) (body []byte, fellBack bool, err error) {
	if c.tmpl != nil {
		b, terr := c.renderTemplate(n, id, now)
		if terr == nil {
			return b, false, nil
		}
		c.log.Warn("body_template failed; sending the default body instead",
			slog.String("webhook_id", id), slog.String("error", c.scrub(terr.Error())))
		fellBack = true
	}
	body, err = c.defaultBody(n, id, now)
	return body, fellBack, err
}

// transportError turns a failed round trip into a classified, scrubbed
// error. ctx is the caller's context, actx the attempt's.
func (c *Channel) transportError(ctx, actx context.Context, err error) error {
	if ctx.Err() != nil {
		return c.canceled(ctx)
	}
	var terr *timeoutError
	if errors.As(context.Cause(actx), &terr) {
		return fmt.Errorf("webhook %s %s: %w", c.method, c.display, terr)
	}
	// *url.Error quotes the full URL; keep only what it wraps.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return &TransportError{
		Msg: fmt.Sprintf("webhook %s %s: %s", c.method, c.display, c.scrub(err.Error())),
		Err: err,
	}
}

// canceled reports that the caller's context ended before or during the
// attempt; the error wraps ctx.Err() (retryable: the notification stays
// queued).
func (c *Channel) canceled(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("webhook %s: %w (%s)", c.display, err, c.scrub(cause.Error()))
	}
	return fmt.Errorf("webhook %s: %w", c.display, err)
}

// scrub removes every secret the channel knows from text.
func (c *Channel) scrub(text string) string {
	for _, s := range c.secrets {
		text = s.Scrub(text)
	}
	return text
}

// clean makes a receiver's answer safe for errors and receipts: valid UTF-8,
// trimmed, and scrubbed (receivers sometimes echo the request).
func (c *Channel) clean(b []byte) string {
	s := strings.TrimSpace(string(b))
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return c.scrub(s)
}

// timeoutError is the cause of an attempt's deadline.
type timeoutError struct{ after time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("%s after %s", ErrTimeout, e.after) }

// Is makes the error match ErrTimeout and context.DeadlineExceeded.
func (e *timeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Timeout reports true, as net.Error timeouts do.
func (e *timeoutError) Timeout() bool { return true }

// TransportError is a request that got no HTTP answer (DNS, connection
// refused or reset, TLS); see notify.TransportError. It is retryable and its
// message holds no secret.
type TransportError = notify.TransportError
