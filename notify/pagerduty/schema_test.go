package pagerduty

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckEvent makes sure the schema check itself rejects what PagerDuty
// rejects, so a passing send test means something.
func TestCheckEvent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		ok   bool
	}{
		// The example body of PagerDuty's own schema.
		{"vendor example", `{"payload":{"summary":"DISK at 99%","timestamp":"2015-07-17T08:42:58.315+00:00","severity":"critical","source":"prod-datapipe03.example.com","component":"mysql","group":"prod-datapipe","class":"disk","custom_details":{"free space":"1%"}},"routing_key":"e93facc04764012d7bfb002500d5d1a6","dedup_key":"srv01/mysql","event_action":"trigger","client":"Sample","client_url":"https://monitoring.service.com","links":[{"href":"http://pagerduty.example.com","text":"An example link."}]}`, true},
		// A minimal resolve.
		{"resolve", `{"routing_key":"k","event_action":"resolve","dedup_key":"abc"}`, true},
		// Unknown event_action (schema enum).
		{"bad action", `{"routing_key":"k","event_action":"close","dedup_key":"abc"}`, false},
		// Severity outside critical|error|warning|info (schema enum).
		{"bad severity", `{"routing_key":"k","event_action":"trigger","dedup_key":"a","payload":{"summary":"s","source":"h","severity":"high"}}`, false},
		// Payload without source (schema required).
		{"no source", `{"routing_key":"k","event_action":"trigger","dedup_key":"a","payload":{"summary":"s","severity":"info"}}`, false},
		// No routing_key (schema required).
		{"no routing key", `{"event_action":"resolve","dedup_key":"a"}`, false},
		// A link whose href is not a URL (schema format url).
		{"relative link", `{"routing_key":"k","event_action":"trigger","dedup_key":"a","payload":{"summary":"s","source":"h","severity":"info"},"links":[{"href":"runbooks/x"}]}`, false},
		// custom_details must be an object (schema type).
		{"details string", `{"routing_key":"k","event_action":"trigger","dedup_key":"a","payload":{"summary":"s","source":"h","severity":"info","custom_details":"x"}}`, false},
		// Trigger without payload (documented, not in the schema).
		{"trigger without payload", `{"routing_key":"k","event_action":"trigger","dedup_key":"a"}`, false},
		// Resolve with a payload (we send only the three documented fields).
		{"resolve with payload", `{"routing_key":"k","event_action":"resolve","dedup_key":"a","payload":{"summary":"s","source":"h","severity":"info"}}`, false},
		// A timestamp that is not date-time (schema format).
		{"bad timestamp", `{"routing_key":"k","event_action":"trigger","dedup_key":"a","payload":{"summary":"s","source":"h","severity":"info","timestamp":"yesterday"}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkEvent([]byte(tc.body))
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
