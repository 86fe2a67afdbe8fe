package webhook

import (
	"time"

	"github.com/klaxonhq/klaxon/notify"
)

// klaxonBody is the default request body (format "klaxon"). Its JSON Schema is
// docs/webhook-payload.schema.json; the tests validate every body against it.
type klaxonBody struct {
	// Type is the event: "alert.active", "alert.acknowledged", ...
	Type notify.Event `json:"type"`
	// Timestamp is when the transition happened (not when this attempt was
	// made: that is the webhook-timestamp header).
	Timestamp time.Time `json:"timestamp"`
	// IdempotencyKey equals the webhook-id header.
	IdempotencyKey string `json:"idempotency_key"`
	// GroupKey is the route's group, or the primary alert's fingerprint when
	// the route does not group.
	GroupKey string `json:"group_key"`
	// Status is "firing" when any alert is not resolved, else "resolved".
	Status string `json:"status"`
	// Channel is the configured channel name.
	Channel string `json:"channel"`
	// ExternalURL links to klaxon's dashboard when one is configured.
	ExternalURL string `json:"external_url,omitempty"`
	// Alerts always holds at least one alert: ALERT + previous_state.
	Alerts []notify.AlertEvent `json:"alerts"`
}

// amMessage is Alertmanager's webhook body, version 4 (format
// "alertmanager"), so receivers written for Alertmanager work unchanged.
type amMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

// amAlert is one alert of an amMessage.
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// templateData is what body_template executes over: the notification's
// fields and methods (.Event, .Alerts, .IdempotencyKey, .Alert.Summary, ...)
// plus the computed status and the default body.
type templateData struct {
	*notify.Notification
	// Status is "firing" or "resolved", as in the default body.
	Status string
	// GroupKey shadows the notification's: never empty (see klaxonBody).
	GroupKey string
	// Payload is the default klaxon body; {{ json .Payload }} renders it.
	Payload any
}
