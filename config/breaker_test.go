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

func TestParse_ChannelMaxHeld(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("klaxon.yml", []byte(`
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    max_held: 500
  pager:
    type: webhook
    url: http://127.0.0.1:9099/pager
`), fakeOpts(nil))
	require.NoError(t, err)
	require.Equal(t, 500, cfg.Channels["ops"].MaxHeld)
	require.Zero(t, cfg.Channels["pager"].MaxHeld, "0 takes the dispatcher's default")

	_, err = Parse("klaxon.yml", []byte(`
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    max_held: -3
  pager:
    type: webhook
    url: http://127.0.0.1:9099/pager
    max_held: lots
`), fakeOpts(nil))
	require.Error(t, err)
	require.Contains(t, err.Error(), "klaxon.yml:6:15: channels.ops.max_held: must not be negative (0 takes the default, 10000)")
	require.Contains(t, err.Error(), "klaxon.yml:10:15: channels.pager.max_held:")
}

func TestParse_ChannelConcurrency(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("klaxon.yml", []byte(`
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    concurrency: 32
  pager:
    type: webhook
    url: http://127.0.0.1:9099/pager
`), fakeOpts(nil))
	require.NoError(t, err)
	require.Equal(t, 32, cfg.Channels["ops"].Concurrency)
	require.Zero(t, cfg.Channels["pager"].Concurrency, "0 takes the channel type's default")

	_, err = Parse("klaxon.yml", []byte(`
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    concurrency: -1
  pager:
    type: webhook
    url: http://127.0.0.1:9099/pager
    concurrency: 129
  mail:
    type: webhook
    url: http://127.0.0.1:9099/mail
    concurrency: many
`), fakeOpts(nil))
	require.Error(t, err)
	require.Contains(t, err.Error(), "klaxon.yml:6:18: channels.ops.concurrency: must be between 0 and 128 (0 takes the channel type's default)")
	require.Contains(t, err.Error(), "klaxon.yml:10:18: channels.pager.concurrency: must be between 0 and 128")
	require.Contains(t, err.Error(), "klaxon.yml:14:18: channels.mail.concurrency:")
}

// An integer key refuses a fraction instead of truncating it: 1.5 would
// become 1, and 0.5 would become 0, the default.
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
      failures: 2.0
`), fakeOpts(nil))
	require.Error(t, err)
	require.Contains(t, err.Error(), `klaxon.yml:6:18: channels.ops.concurrency: expected an integer, got "1.5"`)
	require.Contains(t, err.Error(), `klaxon.yml:7:15: channels.ops.max_held: expected an integer, got "0.5"`)
	require.Contains(t, err.Error(), `klaxon.yml:9:17: channels.ops.breaker.failures: expected an integer, got "2.0"`)
}
