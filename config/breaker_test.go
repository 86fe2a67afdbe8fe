package config

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParse_ChannelBreaker(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("klaxon.yml", []byte(`
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    breaker:
      failures: 3
      open_for: 30s
`), fakeOpts(nil))
	require.NoError(t, err)
	require.Equal(t, Breaker{Failures: 3, OpenFor: 30 * time.Second}, cfg.Channels["ops"].Breaker)

	_, err = Parse("klaxon.yml", []byte(`
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    breaker:
      failures: -1
      open_fr: 1s
`), fakeOpts(nil))
	require.Error(t, err)
	require.Contains(t, err.Error(), "klaxon.yml:7:17: channels.ops.breaker.failures: must not be negative")
	require.Contains(t, err.Error(), `klaxon.yml:8:7: channels.ops.breaker.open_fr: unknown key "open_fr" (did you mean open_for?)`)
}

// A channel's integer keys: a value is taken, an absent key is 0 (the
// default), and a value out of range or not a number is refused at its
// line and column.
func TestParse_ChannelIntegerKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key        string
		good       int
		get        func(*Channel) int
		bad        string
		badMessage string
		worse      string // refused with a message about its type
	}{
		{key: "max_held", good: 500, get: func(c *Channel) int { return c.MaxHeld },
			bad: "-3", badMessage: "must not be negative (0 takes the default, 10000)", worse: "lots"},
		{key: "concurrency", good: 32, get: func(c *Channel) int { return c.Concurrency },
			bad: "129", badMessage: "must be between 0 and 128 (0 takes the channel type's default)", worse: "many"},
		{key: "concurrency", good: 1, get: func(c *Channel) int { return c.Concurrency },
			bad: "-1", badMessage: "must be between 0 and 128 (0 takes the channel type's default)", worse: "[1]"},
	} {
		t.Run(tc.key+"="+tc.bad, func(t *testing.T) {
			t.Parallel()
			col := len("    "+tc.key+": ") + 1
			cfg, err := Parse("klaxon.yml", []byte(fmt.Sprintf(`
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    %s: %d
  pager:
    type: webhook
    url: http://127.0.0.1:9099/pager
`, tc.key, tc.good)), fakeOpts(nil))
			require.NoError(t, err)
			require.Equal(t, tc.good, tc.get(cfg.Channels["ops"]))
			require.Zero(t, tc.get(cfg.Channels["pager"]), "0 takes the default")

			_, err = Parse("klaxon.yml", []byte(fmt.Sprintf(`
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    %s: %s
  pager:
    type: webhook
    url: http://127.0.0.1:9099/pager
    %s: %s
`, tc.key, tc.bad, tc.key, tc.worse)), fakeOpts(nil))
			require.Error(t, err)
			require.Contains(t, err.Error(), fmt.Sprintf("klaxon.yml:6:%d: channels.ops.%s: %s", col, tc.key, tc.badMessage))
			require.Contains(t, err.Error(), fmt.Sprintf("klaxon.yml:10:%d: channels.pager.%s: expected an integer, got", col, tc.key))
		})
	}
}

// An integer key refuses a fraction instead of truncating it (1.5 would
// become 1, and 0.5 would become 0, the default), and takes a whole number
// in any form: Helm renders 1000000 as 1e+06.
func TestParse_IntegerKeysRefuseFractions(t *testing.T) {
	t.Parallel()
	_, err := Parse("klaxon.yml", []byte(`
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    concurrency: 1.5
    max_held: 0.5
    breaker:
      failures: 2.5e+0
`), fakeOpts(nil))
	require.Error(t, err)
	require.Contains(t, err.Error(), `klaxon.yml:6:18: channels.ops.concurrency: expected an integer, got "1.5"`)
	require.Contains(t, err.Error(), `klaxon.yml:7:15: channels.ops.max_held: expected an integer, got "0.5"`)
	require.Contains(t, err.Error(), `klaxon.yml:9:17: channels.ops.breaker.failures: expected an integer, got "2.5e+0"`)

	cfg, err := Parse("klaxon.yml", []byte(`
history:
  max_resolved: 1e+06
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    max_held: 1e+05
    concurrency: 2.0
scrape:
  - url: http://127.0.0.1:9100/metrics
    sample_limit: 2e+06
`), fakeOpts(nil))
	require.NoError(t, err)
	require.Equal(t, 1000000, cfg.History.MaxResolved)
	require.Equal(t, 100000, cfg.Channels["ops"].MaxHeld)
	require.Equal(t, 2, cfg.Channels["ops"].Concurrency)
	require.Equal(t, 2000000, cfg.Scrape[0].SampleLimit)

	_, err = Parse("klaxon.yml", []byte(`
history:
  max_resolved: 1e+30
`), fakeOpts(nil))
	require.ErrorContains(t, err, `history.max_resolved: expected an integer, got "1e+30"`)
}
