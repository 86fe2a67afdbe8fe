package klaxon

import (
	"fmt"
	"log/slog"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/notify/console"
	"github.com/klaxonhq/klaxon/notify/email"
	"github.com/klaxonhq/klaxon/notify/pagerduty"
	"github.com/klaxonhq/klaxon/notify/slack"
	"github.com/klaxonhq/klaxon/notify/webhook"
)

// channelType builds one channel family from its decoded configuration.
type channelType struct {
	newConfig func() any
	build     func(name string, cfg any, log *slog.Logger) (notify.Channel, error)
}

// channelTypes lists every built-in channel family by its `type` key.
var channelTypes = map[string]channelType{
	"console": {
		newConfig: func() any { return &console.Config{} },
		build: func(name string, cfg any, _ *slog.Logger) (notify.Channel, error) {
			return console.New(name, *cfg.(*console.Config))
		},
	},
	"webhook": {
		newConfig: func() any { return &webhook.Config{} },
		build: func(name string, cfg any, log *slog.Logger) (notify.Channel, error) {
			return webhook.New(name, *cfg.(*webhook.Config), webhook.WithLogger(log))
		},
	},
	"email": {
		newConfig: func() any { return &email.Config{} },
		build: func(name string, cfg any, log *slog.Logger) (notify.Channel, error) {
			return email.New(name, *cfg.(*email.Config), email.WithLogger(log))
		},
	},
	"slack": {
		newConfig: func() any { return &slack.Config{} },
		build: func(name string, cfg any, log *slog.Logger) (notify.Channel, error) {
			return slack.New(name, *cfg.(*slack.Config), slack.WithLogger(log))
		},
	},
	"pagerduty": {
		newConfig: func() any { return &pagerduty.Config{} },
		build: func(name string, cfg any, log *slog.Logger) (notify.Channel, error) {
			return pagerduty.New(name, *cfg.(*pagerduty.Config), pagerduty.WithLogger(log))
		},
	},
}

// ChannelTypes returns the channel families config.Load needs to decode
// channel keys strictly.
func ChannelTypes() map[string]config.ChannelType {
	out := make(map[string]config.ChannelType, len(channelTypes))
	for name, t := range channelTypes {
		out[name] = config.ChannelType{NewConfig: t.newConfig}
	}
	return out
}

// buildChannel turns a configured channel into the dispatcher's form.
func buildChannel(c *config.Channel, log *slog.Logger) (notify.ChannelConfig, error) {
	t, ok := channelTypes[c.Type]
	if !ok {
		return notify.ChannelConfig{}, fmt.Errorf("channel %q: unknown type %q", c.Name, c.Type)
	}
	cfg := c.Config
	if cfg == nil {
		// A channel with no keys of its own (the embedded default's
		// console) takes its type's defaults.
		cfg = t.newConfig()
	}
	ch, err := t.build(c.Name, cfg, log.With("channel", c.Name))
	if err != nil {
		return notify.ChannelConfig{}, fmt.Errorf("channel %q: %w", c.Name, err)
	}
	cc := notify.ChannelConfig{
		Name: c.Name, Channel: ch, Type: c.Type, Disabled: c.Disabled,
		BreakerFailures: c.Breaker.Failures, BreakerOpenFor: c.Breaker.OpenFor, MaxHeld: c.MaxHeld,
		Concurrency: c.Concurrency,
		Retry: notify.RetryPolicy{
			Timeout: c.Retry.Timeout, InitialBackoff: c.Retry.InitialBackoff, MaxBackoff: c.Retry.MaxBackoff,
			MaxAge: c.Retry.MaxAge, MaxAttempts: c.Retry.MaxAttempts, Jitter: c.Retry.Jitter,
		},
	}
	if c.RateLimit != nil {
		cc.RateLimit, cc.Burst = c.RateLimit.PerSecond, c.RateLimit.Burst
	}
	return cc, nil
}
