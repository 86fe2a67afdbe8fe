package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/internal/version"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

// Type is the channel type this package implements.
const Type = "pagerduty"

// Default rate limit: PagerDuty accepts about 120 events a minute per
// routing key (a sliding 60 s window), so 2 a second with a small burst.
const (
	defaultRatePerSecond = 2
	defaultBurst         = 10
)

// maxAnswer bounds how much of PagerDuty's answer is read and kept; maxDrain
// bounds how much more is read so the connection can be reused.
const (
	maxAnswer = 16 << 10
	maxDrain  = 64 << 10
)

// ErrNoAlerts is returned (permanent) for a notification without alerts.
var ErrNoAlerts = errors.New("notification has no alerts")

// ErrTimeout matches (with errors.Is) a request that ran past the configured
// timeout. Such errors also match context.DeadlineExceeded and are
// retryable.
var ErrTimeout = errors.New("request timed out")

// Channel sends alert events to one PagerDuty routing key. It is safe for
// concurrent use. Create it with New.
type Channel struct {
	name       string
	routingKey secret.String
	eventsURL  string
	display    string // scheme://host, for errors and logs
	severities map[alert.Severity]string
	source     string
	component  string
	group      string
	class      string
	hostname   string
	timeout    time.Duration
	userAgent  string
	client     *http.Client
	now        func() time.Time
	log        *slog.Logger
}

var (
	_ notify.Channel     = (*Channel)(nil)
	_ notify.Typed       = (*Channel)(nil)
	_ notify.RateLimited = (*Channel)(nil)
)

// Option configures what a Config cannot: test seams and Go-only values.
type Option func(*options)

type options struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
}

// WithHTTPClient sends through a copy of client. The copy never follows
// redirects; client.Timeout still applies on top of the channel's
// per-request timeout.
func WithHTTPClient(client *http.Client) Option {
	return func(o *options) { o.client = client }
}

// WithClock sets the clock used when an alert has no time of its own and to
// read an HTTP-date Retry-After; default time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithLogger sets where the channel logs (a debug line per event, a warning
// when an event had to be trimmed); default: nowhere. The routing key is
// never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// New validates cfg and returns the channel named name.
func New(name string, cfg Config, opts ...Option) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pagerduty channel %q: %w", name, err)
	}
	cfg = cfg.WithDefaults()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	sev, _ := severityMap(cfg.SeverityMap) // checked by Validate
	u, _ := url.Parse(cfg.EventsURL)       // checked by Validate
	c := &Channel{
		name:       name,
		routingKey: cfg.RoutingKey,
		eventsURL:  cfg.EventsURL,
		display:    u.Scheme + "://" + u.Host,
		severities: sev,
		source:     strings.TrimSpace(cfg.Source),
		component:  strings.TrimSpace(cfg.Component),
		group:      strings.TrimSpace(cfg.Group),
		class:      strings.TrimSpace(cfg.Class),
		timeout:    cfg.Timeout,
		userAgent:  "klaxon/" + version.Version,
		now:        o.now,
		log:        o.log,
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		c.hostname = h
	} else {
		c.hostname = clientName
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With(slog.String("channel", name), slog.String("type", Type))
	if o.client != nil {
		cl := *o.client
		c.client = &cl
	} else {
		c.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	c.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

// Type returns "pagerduty".
func (c *Channel) Type() string { return Type }

// Name returns the channel's configured name.
func (c *Channel) Name() string { return c.name }

// DefaultRateLimit returns 2 events a second with a burst of 10, under
// PagerDuty's documented 120 events a minute per routing key. A grouped
// notification takes one token but sends one event per alert.
func (c *Channel) DefaultRateLimit() (perSecond float64, burst int) {
	return defaultRatePerSecond, defaultBurst
}

// Format prints the channel without its routing key, for every verb (%v,
// %+v, %#v, %s).
func (c *Channel) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "pagerduty.Channel{name: %q, events_url: %s, routing_key: %s}", c.name, c.scrub(c.eventsURL), secret.Redacted)
}

// LogValue makes slog print the channel without its routing key.
func (c *Channel) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.name), slog.String("type", Type), slog.String("host", c.display))
}

// Send delivers n as Events API v2 events, one per alert, each with the
// alert's fingerprint as dedup_key: alert.active, alert.renotify,
// alert.escalated and alert.test trigger; alert.acknowledged acknowledges;
// alert.resolved resolves. Other events are not sent: Send returns a Receipt
// whose Detail starts with "skipped:" and a nil error.
//
// Errors are classified for the dispatcher: 400 and other 4xx are permanent
// (with PagerDuty's errors list); 408, 429, 5xx, timeouts and connection
// errors are retryable, 429 and 503 with their Retry-After. For a grouped
// notification a retryable failure stops the send and fails it whole:
// retrying resends every event, which PagerDuty de-duplicates by dedup_key.
// Events that fail permanently do not stop the others; the send then fails
// permanently. No error or log line contains the routing key.
func (c *Channel) Send(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
	if n == nil || len(n.Alerts) == 0 {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("pagerduty: %w", ErrNoAlerts))
	}
	action, ok := actionFor(n.Event)
	if !ok {
		return notify.Receipt{Detail: fmt.Sprintf("skipped: PagerDuty has no action for %s", n.Event)}, nil
	}
	var (
		accepted []answer
		status   int
		failed   []error
	)
	for i := range n.Alerts {
		if ctx.Err() != nil {
			return notify.Receipt{}, c.canceled(ctx)
		}
		ev := c.buildEvent(n, i, action)
		code, ans, err := c.post(ctx, ev, n.Attempt)
		if err != nil {
			where := "dedup_key " + ev.DedupKey
			if len(n.Alerts) > 1 {
				where = fmt.Sprintf("alert %d of %d, %s", i+1, len(n.Alerts), where)
			}
			err = fmt.Errorf("pagerduty %s (%s): %w", action, where, err)
			if !notify.IsPermanent(err) {
				return notify.Receipt{}, err
			}
			failed = append(failed, err)
			continue
		}
		status = code
		accepted = append(accepted, ans)
	}
	if len(failed) > 0 {
		return notify.Receipt{}, errors.Join(failed...)
	}
	return notify.Receipt{StatusCode: status, Detail: receiptDetail(status, action, accepted)}, nil
}

// receiptDetail summarises PagerDuty's answers: "202 success: Event
// processed (trigger, dedup_key 3f2a...)" or, for several events, "202: 3
// trigger events accepted (dedup_keys a, b, c)".
func receiptDetail(code int, action string, as []answer) string {
	if len(as) == 1 {
		a := as[0]
		text := strings.TrimSpace(strings.Join(nonEmpty(a.Status, a.Message), ": "))
		if text == "" {
			text = http.StatusText(code)
		}
		return fmt.Sprintf("%d %s (%s, dedup_key %s)", code, text, action, a.DedupKey)
	}
	keys := make([]string, 0, min(len(as), 5))
	for i, a := range as {
		if i == 5 {
			keys = append(keys, ellipsis)
			break
		}
		keys = append(keys, a.DedupKey)
	}
	return fmt.Sprintf("%d: %d %s events accepted (dedup_keys %s)", code, len(as), action, strings.Join(keys, ", "))
}

func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// post sends one event and returns PagerDuty's status and answer. The
// answer's DedupKey is the event's when PagerDuty does not echo it.
func (c *Channel) post(ctx context.Context, ev *event, attempt int) (int, answer, error) {
	ev.RoutingKey = c.routingKey.Reveal()
	body, trimmed, err := encode(ev)
	ev.RoutingKey = ""
	if err != nil {
		return 0, answer{}, notify.Permanent(fmt.Errorf("encode event: %s", c.scrub(err.Error())))
	}
	if trimmed > 0 {
		c.log.WarnContext(ctx, "event over PagerDuty's size limit; custom_details trimmed",
			slog.String("dedup_key", ev.DedupKey), slog.Int("stage", trimmed), slog.Int("bytes", len(body)))
	}

	actx, cancel := context.WithTimeoutCause(ctx, c.timeout, &timeoutError{after: c.timeout})
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.eventsURL, bytes.NewReader(body))
	if err != nil {
		return 0, answer{}, notify.Permanent(fmt.Errorf("build request: %s", c.scrub(err.Error())))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	resp, err := c.client.Do(req)
	if err != nil {
		return 0, answer{}, c.transportError(ctx, actx, err)
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
	ans := parseAnswer(raw)
	ans.Status, ans.Message, ans.DedupKey = c.clean(ans.Status), c.clean(ans.Message), c.clean(ans.DedupKey)
	if ans.DedupKey == "" {
		ans.DedupKey = ev.DedupKey
	}

	c.log.DebugContext(ctx, "pagerduty answered", slog.String("event_action", ev.EventAction),
		slog.String("dedup_key", ev.DedupKey), slog.Int("status", resp.StatusCode), slog.Int("attempt", attempt))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, ans, nil
	}
	text := c.describe(ans, raw)
	if err := notify.CheckHTTPStatus(resp, text, c.now()); err != nil {
		return resp.StatusCode, ans, fmt.Errorf("POST %s: %w", c.display, err)
	}
	return resp.StatusCode, ans, nil
}

// parseAnswer reads PagerDuty's JSON answer; anything else gives a zero
// answer.
func parseAnswer(raw []byte) answer {
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		return answer{}
	}
	return a
}

// describe renders an error answer for the error message: `invalid event:
// Event object is invalid (errors: "..."; "...")`, or the start of a body
// that is not PagerDuty's JSON.
func (c *Channel) describe(a answer, raw []byte) string {
	text := strings.Join(nonEmpty(a.Status, a.Message), ": ")
	if len(a.Errors) > 0 {
		quoted := make([]string, 0, len(a.Errors))
		for _, e := range a.Errors {
			quoted = append(quoted, strconv.Quote(truncate(c.clean(e), 512)))
		}
		text = strings.TrimSpace(text + " (errors: " + strings.Join(quoted, "; ") + ")")
	}
	if text == "" {
		text = truncate(c.clean(string(raw)), 512)
	}
	return text
}

// transportError turns a failed round trip into a classified, scrubbed
// error. ctx is the caller's context, actx the request's.
func (c *Channel) transportError(ctx, actx context.Context, err error) error {
	if ctx.Err() != nil {
		return c.canceled(ctx)
	}
	var terr *timeoutError
	if errors.As(context.Cause(actx), &terr) {
		return fmt.Errorf("POST %s: %w", c.display, terr)
	}
	// *url.Error quotes the full URL; keep only what it wraps.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return &TransportError{Msg: fmt.Sprintf("POST %s: %s", c.display, c.scrub(err.Error())), Err: err}
}

// canceled reports that the caller's context ended before or during a
// request; the error wraps ctx.Err() (retryable: the notification stays
// queued).
func (c *Channel) canceled(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("pagerduty: %w (%s)", err, c.scrub(cause.Error()))
	}
	return fmt.Errorf("pagerduty: %w", err)
}

// scrub removes the routing key from text.
func (c *Channel) scrub(text string) string { return c.routingKey.Scrub(text) }

// clean makes text from PagerDuty safe for errors and receipts: valid UTF-8,
// trimmed, without the routing key (error messages may echo it).
func (c *Channel) clean(s string) string {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return c.scrub(s)
}

// timeoutError is the cause of a request's deadline.
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
