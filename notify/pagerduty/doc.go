// Package pagerduty is klaxon's PagerDuty channel: it sends alert events to
// the PagerDuty Events API v2 (POST /v2/enqueue).
//
// # Events
//
// Every alert in a notification becomes one event whose dedup_key is the
// alert's fingerprint, so the trigger, acknowledge and resolve of one alert
// address one PagerDuty alert (and incident):
//
//   - alert.active, alert.renotify, alert.escalated and alert.test send
//     "trigger" with a payload (summary cut to 1,024 characters, source,
//     severity, timestamp, component, group, class, custom_details), client
//     "klaxon", and links to the alert in klaxon and to its runbook_url
//     annotation;
//   - alert.acknowledged sends "acknowledge" and alert.resolved "resolve",
//     with only routing_key, event_action and dedup_key, as PagerDuty
//     documents;
//   - any other event is not sent: Send returns a Receipt with Detail
//     "skipped: ..." and no error.
//
// Grouped notifications send one event per alert, because PagerDuty
// de-duplicates per alert. A retryable failure fails the whole send, and the
// retry resends every event: PagerDuty de-duplicates them by dedup_key.
//
// Severities map through Config.SeverityMap over DefaultSeverityMap
// (critical and high: critical; medium: warning; low and info: info).
//
// # Size and rate limits
//
// An event over PagerDuty's 512 KB limit has its custom_details trimmed in
// stages (see encode and docs/channels/pagerduty.md) and is never refused
// for its size. The channel implements notify.RateLimited with 2 events a
// second and a burst of 10, under PagerDuty's 120 events a minute per
// routing key.
//
// # Errors
//
// 2xx is success; 400 and other 4xx are permanent and quote PagerDuty's
// "errors" list; 408, 429, 5xx, timeouts and connection errors are
// retryable, and a 429 or 503 with Retry-After asks the dispatcher to wait
// that long (notify.RetryAfter). Without Retry-After the dispatcher's own
// backoff applies. Redirects are not followed.
//
// # Why net/http and not go-pagerduty
//
// The channel speaks HTTP itself instead of using
// github.com/PagerDuty/go-pagerduty (v1.8.0). Its package function
// ManageEventWithContext posts to a hard-coded URL with http.DefaultClient
// (no timeout), so it can be pointed neither at the EU region nor at a test
// server. Its (*Client).ManageEventWithContext takes an endpoint, but on a
// non-2xx answer it returns an APIError built from the REST API's error
// envelope: the Events API's body ({"status", "message", "errors"}) is not
// parsed, so PagerDuty's reason for a 400 is lost, and the response headers
// are gone, so a 429's Retry-After cannot be honoured. It also folds
// transport errors into a string ("error calling the API endpoint: %v"),
// which hides timeouts and cancellation from errors.Is. The wire format is
// small and is checked in this package's tests against PagerDuty's published
// OpenAPI schema (PagerDuty/api-schema reference/events-v2/openapiv3.json).
//
// # Secrets
//
// The routing key is a secret.String. It exists in plain text only while a
// request body is encoded; errors, logs, Receipts and the %v/%+v/%#v forms of
// Config and Channel never contain it, and PagerDuty's answers are scrubbed
// of it before they are quoted.
package pagerduty
