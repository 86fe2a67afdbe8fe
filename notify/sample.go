package notify

import (
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// SampleNotification returns a realistic firing notification for channel,
// used by `klaxon test-channel` and in channel tests. Its idempotency key is
// unique per call time, so receivers that de-duplicate still show it.
func SampleNotification(channel string, now time.Time) *Notification {
	threshold := 0.05
	a := alert.Alert{
		ID:          "test-" + now.UTC().Format("20060102T150405Z"),
		RuleID:      "high_error_rate",
		RuleName:    "High error rate",
		State:       alert.StateActive,
		Severity:    alert.Critical,
		Summary:     "Error rate is 12.5% (threshold 5%)",
		Description: "This is a test notification sent by klaxon test-channel. No action is needed.",
		Labels:      alert.Labels{"service": "checkout", "env": "test", "alertname": "high_error_rate"},
		Annotations: map[string]string{"runbook_url": "https://example.com/runbooks/high-error-rate"},
		Value:       0.125,
		Threshold:   &threshold,
		Source:      "rule",
		Metadata:    map[string]string{"server": "klaxon-test"},
		StartedAt:   now.Add(-2 * time.Minute).UTC(),
		UpdatedAt:   now.UTC(),
		Sequence:    1,
	}
	a.Fingerprint = alert.NewFingerprint(a.RuleID, a.Labels)
	key := IdempotencyKey(a.ID, a.Fingerprint, now.UnixNano(), channel)
	return &Notification{
		IdempotencyKey: key,
		Channel:        channel,
		Event:          EventTest,
		Alerts:         []AlertEvent{{Alert: &a, PreviousState: alert.StatePending}},
		Attempt:        1,
		CreatedAt:      now.UTC(),
	}
}
