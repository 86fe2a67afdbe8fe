package pagerduty

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/secret"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // message prefixes; none: valid
	}{
		// Only the routing key is required.
		{"minimal", Config{RoutingKey: newKey()}, nil},
		// Every option set.
		{"full", Config{RoutingKey: newKey(), EventsURL: EUEventsURL, SeverityMap: map[string]string{"high": "error", "info": "warning"},
			Source: "s", Component: "c", Group: "g", Class: "k", Timeout: time.Second}, nil},
		// A missing key.
		{"no key", Config{}, []string{"routing_key: is required"}},
		// Pasted with a newline.
		{"key with newline", Config{RoutingKey: secret.New(testKey + "\n")}, []string{"routing_key: must not contain spaces"}},
		// Way too long to be a key.
		{"key too long", Config{RoutingKey: secret.New(strings.Repeat("k", 200))}, []string{"routing_key: must be at most 128"}},
		// Not http(s).
		{"bad url scheme", Config{RoutingKey: newKey(), EventsURL: "ftp://events.pagerduty.com/v2/enqueue"}, []string{"events_url: must be an http or https URL"}},
		// Relative URL.
		{"url without host", Config{RoutingKey: newKey(), EventsURL: "/v2/enqueue"}, []string{"events_url: "}},
		// Unknown klaxon severity as key, and PagerDuty's values only.
		{"severity map", Config{RoutingKey: newKey(), SeverityMap: map[string]string{"urgent": "critical", "high": "major"}},
			[]string{`severity_map: high: "major" is not a PagerDuty severity`, `severity_map: unknown klaxon severity "urgent"`}},
		// A base URL (what go-pagerduty takes) instead of the enqueue URL.
		{"base url", Config{RoutingKey: newKey(), EventsURL: "https://events.pagerduty.com"}, []string{"events_url: must be the full enqueue URL"}},
		// Negative timeout.
		{"timeout", Config{RoutingKey: newKey(), Timeout: -time.Second}, []string{"timeout: must not be negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tc.want), err.Error())
			for i, w := range tc.want {
				require.True(t, strings.HasPrefix(lines[i], w), "%q does not start with %q", lines[i], w)
			}
			require.NotContains(t, err.Error(), testKey)
			_, nerr := New("pager", tc.cfg)
			require.ErrorContains(t, nerr, `pagerduty channel "pager": `+lines[0])
		})
	}
}

func TestConfig_YAML(t *testing.T) {
	t.Parallel()
	var cfg Config
	require.NoError(t, yaml.Unmarshal([]byte(`
routing_key: `+testKey+`
events_url: https://events.eu.pagerduty.com/v2/enqueue
severity_map: {high: error, low: warning}
source: checkout.prod
component: api
group: shop
class: errors
timeout: 5s
`), &cfg))
	require.Equal(t, testKey, cfg.RoutingKey.Reveal())
	require.Equal(t, Config{
		RoutingKey: cfg.RoutingKey, EventsURL: EUEventsURL, SeverityMap: map[string]string{"high": "error", "low": "warning"},
		Source: "checkout.prod", Component: "api", Group: "shop", Class: "errors", Timeout: 5 * time.Second,
	}, cfg)
	require.NoError(t, cfg.Validate())

	d := Config{RoutingKey: newKey()}.WithDefaults()
	require.Equal(t, DefaultEventsURL, d.EventsURL)
	require.Equal(t, DefaultTimeout, d.Timeout)
}
