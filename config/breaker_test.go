package config

import (
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
