// Package webhook is klaxon's generic HTTP channel: it POSTs (or PUTs) each
// notification as JSON to a configured URL, signed with the Standard Webhooks
// scheme (https://www.standardwebhooks.com) when a secret is set.
//
// # Body
//
// Format "klaxon" (the default) sends
//
//	{"type": "alert.active", "timestamp": "2026-11-20T10:00:00Z",
//	 "idempotency_key": "...", "group_key": "...", "status": "firing",
//	 "channel": "ops", "alerts": [ALERT + "previous_state"]}
//
// where ALERT is the alert JSON of klaxon's API (state, sequence, labels,
// annotations, metadata, ...) and "alerts" is always a list. Its JSON Schema
// (2020-12) is docs/webhook-payload.schema.json. Format "alertmanager" sends
// Alertmanager's version-4 webhook body instead, so receivers written for
// Alertmanager work unchanged.
//
// # Body template
//
// body_template replaces the body with the output of a Go text/template. It
// runs over the notification: .Event, .IdempotencyKey, .Channel, .Alerts
// (each with the alert fields and .PreviousState), .Alert (the primary
// alert), .CreatedAt, .ExternalURL, plus .Status ("firing" or "resolved"),
// .GroupKey (never empty) and .Payload (the format's default body). Functions:
// json, rfc3339, upper, lower, join. Missing map keys are errors. The template
// is parsed when the channel is created; if it fails while a notification is
// sent (or writes nothing, or more than 1 MiB), the channel logs a warning,
// sends the format's default body, and notes it in the receipt's Detail:
// a broken template never loses a notification.
//
// # Headers and signing
//
// Every request carries Content-Type: application/json, User-Agent:
// klaxon/VERSION, webhook-id (the notification's idempotency key: the same on
// every retry, never containing '.') and webhook-timestamp (Unix seconds of
// the attempt). With a secret, webhook-signature holds "v1,<base64
// HMAC-SHA256(key, id.timestamp.body)>" per configured secret, space-separated,
// computed per attempt over the exact bytes sent.
//
// # Answers
//
// 2xx is success and the receipt's Detail is the status line ("200 OK").
// 410 Gone is [notify.Gone] (the dispatcher disables the channel and raises a
// self-alert). 408, 429, 5xx, timeouts and network errors are retryable; 429
// and 503 honour Retry-After (seconds or an HTTP date). Redirects are not
// followed: 3xx is permanent ([ErrRedirect]), as are other 4xx. At most 1 KiB
// of the answer is kept.
//
// # Secrets
//
// The URL, header values and signing secrets are [secret.String]s. Errors and
// log lines show only the URL's scheme and host: net/http errors, which quote
// the full URL, are unwrapped and scrubbed, and so are receivers' answers.
//
// # Limitations
//
// Only symmetric (v1, HMAC) signatures are made; the asymmetric v1a variant
// is not implemented. The channel does not filter destination addresses: to
// guard against SSRF, route it through an egress proxy (HTTPS_PROXY is
// honoured by the default transport).
package webhook
