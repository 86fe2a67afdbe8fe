package pagerduty

// Wire types of the Events API v2 (PagerDuty/api-schema
// reference/events-v2/openapiv3.json, operation createV2Event). They are
// unexported because event carries the routing key in plain text: it exists
// only while a request body is encoded.

// Event actions (event_action).
const (
	actionTrigger     = "trigger"
	actionAcknowledge = "acknowledge"
	actionResolve     = "resolve"
)

// Limits PagerDuty documents but its schema does not state.
const (
	// maxSummaryRunes bounds payload.summary (characters).
	maxSummaryRunes = 1024
	// maxDedupKey bounds dedup_key (characters; ours are ASCII).
	maxDedupKey = 255
	// maxEventSize is the 512 KB body limit, read as 512,000 bytes (as
	// Alertmanager does) to stay under either reading.
	maxEventSize = 512000
)

// client is the "client" field of trigger events.
const clientName = "klaxon"

// event is the request body of POST /v2/enqueue. Acknowledge and resolve
// events carry only RoutingKey, EventAction and DedupKey.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key,omitempty"`
	Payload     *payload `json:"payload,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
	Links       []link   `json:"links,omitempty"`
}

// payload is a trigger event's payload (schema Payload).
type payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// link is one entry of links (schema Links).
type link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// answer is PagerDuty's response body, on success (status, message,
// dedup_key) and on error (status, message, errors).
type answer struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}
