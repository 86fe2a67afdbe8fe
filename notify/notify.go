// Package notify turns alert transitions into deliveries. It declares the
// Channel interface every destination implements (one sub-package per channel
// family: notify/webhook, notify/email, notify/slack, notify/pagerduty,
// notify/console), the error classes channels report (Permanent, RetryAfter,
// Gone), and the durable dispatcher that reads notification records from the
// store and sends them with retries, rate limits, circuit breakers, failover
// and a delivery log.
package notify

import (
	"context"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/alert"
)

// Event is what a notification announces. Its value is the webhook payload's
// "type" field.
type Event string

// Events a channel may receive.
const (
	EventActive       Event = "alert.active"
	EventAcknowledged Event = "alert.acknowledged"
	EventResolved     Event = "alert.resolved"
	// EventRenotify repeats an unacknowledged active alert after the route's
	// repeat_interval.
	EventRenotify Event = "alert.renotify"
	// EventEscalated tells an escalation step's channels about an alert that
	// nobody acknowledged in time.
	EventEscalated Event = "alert.escalated"
	// EventTest is a sample sent by `klaxon test-channel`.
	EventTest Event = "alert.test"
)

// Firing reports whether the event announces a firing alert (as opposed to an
// acknowledgement or a resolution).
func (e Event) Firing() bool {
	return e == EventActive || e == EventRenotify || e == EventEscalated || e == EventTest
}

// AlertEvent is one alert in a notification: the alert as it was at the
// transition, plus the state it left. The alert is shared with the engine
// (and with other channels' notifications of the same transition): read
// it, never change it; copy it to adjust it.
type AlertEvent struct {
	*alert.Alert
	PreviousState alert.State `json:"previous_state"`
}

// EventSource is a record's event kept in a compact form by the process
// that wrote it (store.Notification.Decoded): the dispatcher asks for the
// event when it sends. The lifecycle's packed alerts implement it.
type EventSource interface {
	AlertEvent() (*AlertEvent, error)
}

// Notification is what one transition (or one group of transitions) means for
// one channel. The dispatcher builds it from a stored record; channels must
// treat it as read-only.
type Notification struct {
	// ID is the queue record's id; 0 for test sends.
	ID int64
	// IdempotencyKey is stable across retries and restarts:
	// fingerprint-incarnation-sequence-channel (IdempotencyKey). It never contains '.', so it is a valid
	// Standard Webhooks id. Channels pass it to receivers that de-duplicate.
	IdempotencyKey string
	// Channel is the configured channel name this notification is for.
	Channel string
	Event   Event
	// Alerts holds at least one alert; grouped notifications hold several.
	// Alerts[0] is the alert whose transition created the notification.
	Alerts []AlertEvent
	// GroupKey names the group (route + group_by labels); empty when the
	// route does not group.
	GroupKey string
	// Attempt counts sends of this notification, starting at 1.
	Attempt int
	// CreatedAt is the transition's time.
	CreatedAt time.Time
	// Thread is what this channel returned as Receipt.Thread for an earlier
	// notification of the same alert (a Slack "channel:ts", an email
	// Message-ID); empty for the first.
	Thread string
	// ExternalURL links to the alert in klaxon's dashboard; empty when no
	// external URL is configured.
	ExternalURL string
}

// Alert returns the notification's primary alert.
func (n *Notification) Alert() *alert.Alert { return n.Alerts[0].Alert }

// IdempotencyKey builds the key of invariant 2: the alert's fingerprint,
// the incarnation (a hash of the alert id: one series that fires, resolves
// and fires again is two alerts whose sequences both start at 1, and a
// receiver that de-duplicates by key must not drop the second), the
// transition sequence and the channel. Fingerprints are hex, so the key
// only holds [0-9a-z_-].
func IdempotencyKey(alertID string, fp alert.Fingerprint, sequence int64, channel string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(alertID))
	var incBuf [9]byte
	inc := strconv.AppendUint(incBuf[:0], uint64(h.Sum32())|1<<32, 16)[1:]
	var seqBuf [20]byte
	seq := strconv.AppendInt(seqBuf[:0], sequence, 10)
	// One allocation of the key's own size: a key is held with each
	// notification on its way. Each rune of the channel becomes one byte.
	var b strings.Builder
	b.Grow(len(fp) + 1 + len(inc) + 1 + len(seq) + 1 + utf8.RuneCountInString(channel))
	b.WriteString(string(fp))
	b.WriteByte('-')
	b.Write(inc)
	b.WriteByte('-')
	b.Write(seq)
	b.WriteByte('-')
	for _, r := range channel {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteByte(byte(r))
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Receipt is what a receiver answered to a successful send.
type Receipt struct {
	// StatusCode is the HTTP status or SMTP reply code; 0 when there is none.
	StatusCode int
	// Detail is a short, secret-free summary of the answer for the delivery
	// log and `klaxon test-channel` ("202 Accepted", "250 queued as 4F2A").
	Detail string
	// Thread, when set, is stored for this alert and channel and handed back
	// as Notification.Thread on the alert's later notifications.
	Thread string
}

// Channel is a configured destination. Send delivers one notification or
// returns an error classified with Permanent, RetryAfter or Gone (an
// unclassified error is retryable). Send must honour ctx and must be safe for
// concurrent use.
type Channel interface {
	Send(ctx context.Context, n *Notification) (Receipt, error)
}

// RateLimited is implemented by channels whose provider publishes a quota.
// The dispatcher uses it as the default for the channel's token bucket
// (events per second and burst) unless the configuration sets one.
type RateLimited interface {
	DefaultRateLimit() (perSecond float64, burst int)
}

// Concurrent is implemented by channels that say how many of their sends
// may run at once by default; the configuration's concurrency overrides it.
// Without it a channel runs 8 at once (1 under a rate limit below 2 per
// second).
type Concurrent interface {
	DefaultConcurrency() int
}

// Typed is implemented by channels to report their type ("webhook", "slack").
type Typed interface {
	Type() string
}

// ChannelFunc adapts a function to Channel; handy in tests.
type ChannelFunc func(ctx context.Context, n *Notification) (Receipt, error)

// Send calls f.
func (f ChannelFunc) Send(ctx context.Context, n *Notification) (Receipt, error) { return f(ctx, n) }
