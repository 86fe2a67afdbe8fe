// Package slack delivers klaxon notifications to Slack, through the Web API
// (a bot token and a channel) or an incoming webhook (a secret URL).
//
// # One message per alert
//
// In Web API mode the first notification of an alert is posted with
// chat.postMessage and the returned channel ID and ts come back as
// notify.Receipt.Thread ("C024BE91L:1503435956.000247"). Every later
// notification of that alert (Notification.Thread set) updates that message
// with chat.update, so it always shows the current state, and then replies in
// its thread (chat.postMessage with thread_ts) to record the transition. When
// the message is gone (message_not_found, cant_update_message,
// edit_window_closed, channel_not_found), a fresh message is posted and its
// thread is returned instead. Incoming webhooks return no ts, so webhook mode
// posts a new message for every notification.
//
// # Retries and duplicates
//
// Updates are idempotent: a retried update writes the same content. The first
// post and the thread reply are not: if Slack accepted a post but the answer
// was lost (a timeout, a dropped connection, Slack's internal_error or
// fatal_error), the dispatcher's retry posts it again. Slack's Web API has no
// idempotency key, so this is best-effort at-least-once; the reply is sent
// last so a failed update never leaves a duplicate reply behind. Each first
// post carries the idempotency key in its message metadata (event type
// "klaxon_alert"), so duplicates can be told apart.
//
// # Errors
//
// Web API errors come back as HTTP 200 with ok:false. Rate limits (429,
// ratelimited) honour Retry-After through notify.RetryAfter; Slack-side codes
// (internal_error, fatal_error, request_timeout, service_unavailable), 5xx
// and network errors are retryable; every other code (invalid_auth,
// channel_not_found, not_in_channel, msg_too_long, ...) is notify.Permanent.
// Webhook answers: 200 is success, 410 is notify.Gone, 408/429/5xx are
// retryable and any other status (404 no_service, 403 invalid_token) is
// permanent. *APIError carries the method, Slack's code and the status.
// Errors, logs and printed values never contain the token or the webhook URL.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/klaxonhq/klaxon/notify"
)

// TypeName is the channel type in configuration files.
const TypeName = "slack"

// ErrNoAlerts is returned (as notify.Permanent) for a notification without
// alerts.
var ErrNoAlerts = errors.New("notification has no alerts")

// fallbackCodes are chat.update errors after which a fresh message is posted.
var fallbackCodes = map[string]bool{
	"message_not_found":   true,
	"cant_update_message": true,
	"edit_window_closed":  true,
	"channel_not_found":   true,
}

// Option customises a Channel beyond its Config: test seams and wiring.
type Option func(*options)

type options struct {
	client *http.Client
	now    func() time.Time
	logger *slog.Logger
}

// WithHTTPClient sets the HTTP client for every call; default a client on
// http.DefaultTransport. Its own Timeout, if any, applies per HTTP call on
// top of Config.Timeout.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithClock sets the clock, used for message times when a notification has
// none and for reading HTTP-date Retry-After headers; default time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger for events that return no error (a fallback to
// a fresh message); default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Channel sends notifications to one Slack destination. It is safe for
// concurrent use. Printing it shows only its name and mode.
type Channel struct {
	name   string
	cfg    Config
	api    *slack.Client // nil in webhook mode
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
}

var (
	_ notify.Channel     = (*Channel)(nil)
	_ notify.RateLimited = (*Channel)(nil)
	_ notify.Typed       = (*Channel)(nil)
)

// New validates cfg, applies its defaults and returns the channel named name.
func New(name string, cfg Config, opts ...Option) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.client == nil {
		o.client = &http.Client{Transport: http.DefaultTransport}
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.WithDefaults()
	c := &Channel{
		name:   name,
		cfg:    cfg,
		client: o.client,
		now:    o.now,
		log:    o.logger.With("channel", name, "type", TypeName),
	}
	if !cfg.webhookMode() {
		c.api = slack.New(cfg.Token.Reveal(),
			slack.OptionAPIURL(cfg.APIURL),
			slack.OptionHTTPClient(recordingDoer{client: o.client}))
	}
	return c, nil
}

// Name returns the configured channel name.
func (c *Channel) Name() string { return c.name }

// Type returns "slack".
func (c *Channel) Type() string { return TypeName }

// DefaultRateLimit is Slack's posting limit: about one message per second
// per channel, with a burst of 2 so an alert that fires and is acknowledged
// at once is not held back. One Send posts at most one message (the update
// that may precede a reply is a separate, more generous Slack tier).
func (c *Channel) DefaultRateLimit() (perSecond float64, burst int) { return 1, 2 }

// String describes the channel without its secrets.
func (c Channel) String() string {
	mode := "web api, channel " + c.cfg.Channel
	if c.cfg.webhookMode() {
		mode = "incoming webhook"
	}
	return "slack channel " + strconv.Quote(c.name) + " (" + mode + ")"
}

// GoString is String, so %#v does not reveal the token or webhook URL either.
func (c Channel) GoString() string { return c.String() }

// Send delivers n. In Web API mode it posts a new message, or, when
// n.Thread names an earlier message, updates it and replies in its thread;
// the Receipt's Thread names the message to update next time. In webhook mode
// it always posts a new message. Errors are classified (see the package doc)
// and never contain secrets.
func (c *Channel) Send(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
	if n == nil || len(n.Alerts) == 0 {
		return notify.Receipt{}, notify.Permanent(ErrNoAlerts)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, ErrTimeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, context.Cause(ctx)
	}
	msg := buildMessage(n, c.now())
	var (
		r   notify.Receipt
		err error
	)
	if c.cfg.webhookMode() {
		r, err = c.sendWebhook(ctx, &msg)
	} else {
		r, err = c.sendAPI(ctx, n, &msg)
	}
	if err != nil {
		return notify.Receipt{}, redact(withDeadlineCause(ctx, err), c.cfg.Token, c.cfg.WebhookURL)
	}
	return r, nil
}

// sendAPI posts or updates through the Web API.
func (c *Channel) sendAPI(ctx context.Context, n *notify.Notification, msg *message) (notify.Receipt, error) {
	channelID, ts, ok := parseThread(n.Thread)
	if !ok {
		if n.Thread != "" {
			c.log.WarnContext(ctx, "slack thread reference unreadable; posting a new message",
				"thread", n.Thread, "idempotency_key", n.IdempotencyKey)
		}
		return c.post(ctx, msg)
	}
	err := c.call(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, channelID, ts,
			slack.MsgOptionText(msg.text, false),
			slack.MsgOptionAttachments(msg.attachments...))
		return err
	})
	if err != nil {
		code := ErrorCode(err)
		if !fallbackCodes[code] {
			return notify.Receipt{}, err
		}
		c.log.InfoContext(ctx, "slack message cannot be updated; posting a new one",
			"code", code, "thread", n.Thread, "idempotency_key", n.IdempotencyKey)
		return c.post(ctx, msg)
	}
	var replyTS string
	err = c.call(ctx, "chat.postMessage", func(ctx context.Context) error {
		var err error
		_, replyTS, err = c.api.PostMessageContext(ctx, channelID, c.postOptions(msg.reply, nil, ts)...)
		return err
	})
	if err != nil {
		return notify.Receipt{}, err
	}
	return notify.Receipt{
		StatusCode: http.StatusOK,
		Detail:     "updated " + channelID + ":" + ts + ", replied " + replyTS,
		Thread:     n.Thread,
	}, nil
}

// post sends msg as a new top-level message.
func (c *Channel) post(ctx context.Context, msg *message) (notify.Receipt, error) {
	var channelID, ts string
	err := c.call(ctx, "chat.postMessage", func(ctx context.Context) error {
		opts := append(c.postOptions(msg.text, msg.attachments, ""), slack.MsgOptionMetadata(msg.metadata))
		var err error
		channelID, ts, err = c.api.PostMessageContext(ctx, c.cfg.Channel, opts...)
		return err
	})
	if err != nil {
		return notify.Receipt{}, err
	}
	thread := channelID + ":" + ts
	return notify.Receipt{StatusCode: http.StatusOK, Detail: "posted " + thread, Thread: thread}, nil
}

func (c *Channel) postOptions(text string, atts []slack.Attachment, threadTS string) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(atts) > 0 {
		opts = append(opts, slack.MsgOptionAttachments(atts...))
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	if c.cfg.Username != "" {
		opts = append(opts, slack.MsgOptionUsername(c.cfg.Username))
	}
	if c.cfg.IconEmoji != "" {
		opts = append(opts, slack.MsgOptionIconEmoji(c.cfg.IconEmoji))
	}
	return opts
}

// call runs one Web API call and classifies its error.
func (c *Channel) call(ctx context.Context, method string, f func(ctx context.Context) error) error {
	info := &respInfo{}
	err := f(context.WithValue(ctx, respInfoKey{}, info))
	return classifyAPI(method, err, info, c.now())
}

// webhookPayload is the incoming-webhook body.
type webhookPayload struct {
	Text        string             `json:"text"`
	Attachments []slack.Attachment `json:"attachments,omitempty"`
	Username    string             `json:"username,omitempty"`
	IconEmoji   string             `json:"icon_emoji,omitempty"`
}

// maxWebhookAnswer bounds how much of a webhook answer is read.
const maxWebhookAnswer = 1 << 10

// sendWebhook posts msg to the incoming webhook. It uses net/http directly
// because slack.PostWebhookContext drops Slack's error code from the body.
func (c *Channel) sendWebhook(ctx context.Context, msg *message) (notify.Receipt, error) {
	body, err := json.Marshal(webhookPayload{
		Text:        msg.text,
		Attachments: msg.attachments,
		Username:    c.cfg.Username,
		IconEmoji:   c.cfg.IconEmoji,
	})
	if err != nil {
		return notify.Receipt{}, notify.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.WebhookURL.Reveal(), bytes.NewReader(body))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(errors.New("webhook: webhook_url is not a valid URL"))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.client.Do(req)
	if err != nil {
		return notify.Receipt{}, transportError("webhook", err, true)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return notify.Receipt{StatusCode: http.StatusOK, Detail: "200 " + webhookCode(string(answer))}, nil
	}
	return notify.Receipt{}, classifyStatus("webhook", resp.StatusCode, webhookCode(string(answer)),
		resp.Header.Get("Retry-After"), c.now())
}

// webhookCode returns Slack's short text code from a webhook answer, or ""
// when the answer is not one (an HTML error page).
func webhookCode(body string) string {
	body = strings.TrimSpace(body)
	if body == "" || len(body) > 64 {
		return ""
	}
	for _, r := range body {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return ""
		}
	}
	return body
}

// parseThread splits a Receipt.Thread "CHANNELID:TS".
func parseThread(thread string) (channelID, ts string, ok bool) {
	channelID, ts, ok = strings.Cut(thread, ":")
	if !ok || channelID == "" || ts == "" || strings.ContainsAny(thread, " \t\r\n") {
		return "", "", false
	}
	return channelID, ts, true
}

// respInfo is what the transport saw for one Web API call: slack-go keeps
// neither the status of an ok:false answer nor its Retry-After.
type respInfo struct {
	status     int
	retryAfter string
}

type respInfoKey struct{}

// recordingDoer is the slack-go HTTP client: it records each answer's status
// and Retry-After into the respInfo carried by the request's context.
type recordingDoer struct{ client *http.Client }

func (d recordingDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req)
	if info, ok := req.Context().Value(respInfoKey{}).(*respInfo); ok && resp != nil {
		info.status = resp.StatusCode
		info.retryAfter = resp.Header.Get("Retry-After")
	}
	return resp, err
}
