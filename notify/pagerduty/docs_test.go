package pagerduty

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestDocsConfig decodes the copy-paste configuration of
// docs/channels/pagerduty.md strictly, as written and with every commented
// option switched on, so the page cannot drift from Config.
func TestDocsConfig(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "channels", "pagerduty.md"))
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(page)
	require.NotNil(t, m, "the page has a yaml block")
	block := strings.ReplaceAll(string(m[1]), "${PAGERDUTY_ROUTING_KEY}", testKey)

	decode := func(t *testing.T, text string) Config {
		t.Helper()
		var doc struct {
			Channels map[string]map[string]any `yaml:"channels"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(text), &doc))
		keys := doc.Channels["pager"]
		require.Equal(t, "pagerduty", keys["type"])
		delete(keys, "type")
		raw, err := yaml.Marshal(keys)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		var cfg Config
		require.NoError(t, dec.Decode(&cfg))
		require.NoError(t, cfg.Validate())
		return cfg
	}

	cfg := decode(t, block)
	require.Equal(t, testKey, cfg.RoutingKey.Reveal())

	all := regexp.MustCompile(`(?m)^(\s+)# (\w+:)`).ReplaceAllString(block, "$1$2")
	all = regexp.MustCompile(`\s+# EU service region`).ReplaceAllString(all, "")
	cfg = decode(t, all)
	require.Equal(t, EUEventsURL, cfg.EventsURL)
	require.Equal(t, map[string]string{"high": "error", "low": "warning"}, cfg.SeverityMap)
	require.Equal(t, 10*time.Second, cfg.Timeout)
	require.NotEmpty(t, cfg.Source)
	require.NotEmpty(t, cfg.Class)
}
