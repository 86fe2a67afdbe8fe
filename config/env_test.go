package config

import (
	"errors"
	"fmt"
	"testing"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/stretchr/testify/require"
)

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestFromEnv_Channels(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		EnvWebhookURL:          "https://hooks.example.com/a",
		EnvWebhookSecret:       "whsec_c2VjcmV0",
		EnvEmailSMTPHost:       "smtp.example.com",
		EnvEmailSMTPPort:       "587",
		EnvEmailFrom:           "alerts@example.com",
		EnvEmailTo:             "team@example.com, oncall@example.com,",
		EnvEmailUsername:       "alerts",
		EnvEmailPassword:       "p@ss word$",
		EnvSlackToken:          "xoxb-123456",
		EnvSlackChannel:        "#alerts",
		EnvPagerDutyRoutingKey: "R0UT1NGKEY",
	}
	cfg, err := FromEnv(envFunc(env), fakeOpts(nil))
	require.NoError(t, err)
	require.Equal(t, []string{"console", "email", "pagerduty", "slack", "webhook"}, keys(cfg.Channels))

	wh := cfg.Channels["webhook"]
	require.Equal(t, "webhook", wh.Type)
	require.Equal(t, EnvWebhookURL, wh.Env)
	require.Equal(t, "https://hooks.example.com/a", wh.Config.(*fakeWebhook).URL)
	require.Equal(t, "whsec_c2VjcmV0", wh.Config.(*fakeWebhook).Secret.Reveal())
	require.Equal(t, DefaultAttemptTimeout, wh.Retry.Timeout)

	em := cfg.Channels["email"].Config.(*fakeEmail)
	require.Equal(t, "smtp.example.com", em.SMTPHost)
	require.Equal(t, 587, em.SMTPPort)
	require.Equal(t, "alerts@example.com", em.From)
	require.Equal(t, []string{"team@example.com", "oncall@example.com"}, em.To)
	require.Equal(t, "alerts", em.Username)
	// Values are literal: no ${} expansion, no trimming of passwords.
	require.Equal(t, "p@ss word$", em.Password.Reveal())

	sl := cfg.Channels["slack"].Config.(*fakeSlack)
	require.Equal(t, "xoxb-123456", sl.Token.Reveal())
	require.Equal(t, "#alerts", sl.Channel)
	require.True(t, sl.WebhookURL.IsZero())

	require.Equal(t, "R0UT1NGKEY", cfg.Channels["pagerduty"].Config.(*fakePagerDuty).RoutingKey.Reveal())
	require.Equal(t, &fakeConsole{}, cfg.Channels["console"].Config)

	// PagerDuty gets critical and high; the others every severity.
	require.Len(t, cfg.Routes, 2)
	require.Equal(t, SeverityMatch{alert.Critical, alert.High}, cfg.Routes[0].Match.Severity)
	require.Equal(t, []string{"pagerduty"}, cfg.Routes[0].Notify)
	require.True(t, cfg.Routes[0].Continue)
	require.Empty(t, cfg.Routes[1].Match.Severity)
	require.Equal(t, []string{"console", "email", "slack", "webhook"}, cfg.Routes[1].Notify)
	require.Equal(t, DefaultRepeatInterval, cfg.Routes[1].RepeatInterval)

	// The built-in rules come along.
	require.NotEmpty(t, cfg.Rules)
	require.Equal(t, DefaultListen, cfg.Server.Listen)
}

func TestFromEnv_Minimal(t *testing.T) {
	t.Parallel()
	// Nothing set: the console channel and one route to it.
	cfg, err := FromEnv(envFunc(nil), fakeOpts(nil))
	require.NoError(t, err)
	require.Equal(t, []string{"console"}, keys(cfg.Channels))
	require.Len(t, cfg.Routes, 1)
	require.Equal(t, []string{"console"}, cfg.Routes[0].Notify)

	// A Slack incoming webhook alone.
	cfg, err = FromEnv(envFunc(map[string]string{EnvSlackWebhookURL: "https://hooks.slack.com/services/T/B/X"}), fakeOpts(nil))
	require.NoError(t, err)
	require.Equal(t, "https://hooks.slack.com/services/T/B/X", cfg.Channels["slack"].Config.(*fakeSlack).WebhookURL.Reveal())

	// Email without port or login.
	cfg, err = FromEnv(envFunc(map[string]string{EnvEmailSMTPHost: "mx", EnvEmailFrom: "a@b", EnvEmailTo: "c@d"}), fakeOpts(nil))
	require.NoError(t, err)
	require.Equal(t, &fakeEmail{SMTPHost: "mx", From: "a@b", To: []string{"c@d"}}, cfg.Channels["email"].Config)

	// PagerDuty alone still routes everything else to the console.
	cfg, err = FromEnv(envFunc(map[string]string{EnvPagerDutyRoutingKey: "k"}), fakeOpts(nil))
	require.NoError(t, err)
	require.Len(t, cfg.Routes, 2)
	require.Equal(t, []string{"console"}, cfg.Routes[1].Notify)
}

func TestFromEnv_Problems(t *testing.T) {
	t.Parallel()
	base := map[string]string{EnvEmailSMTPHost: "mx", EnvEmailFrom: "a@b", EnvEmailTo: "c@d"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		// Host without recipients.
		{"host without to", with(EnvEmailSMTPHost, "mx", EnvEmailFrom, "a@b"),
			"MCP_ALERT_EMAIL_TO is required when MCP_ALERT_EMAIL_SMTP_HOST is set"},
		// Host without sender.
		{"host without from", with(EnvEmailSMTPHost, "mx", EnvEmailTo, "a@b"),
			"MCP_ALERT_EMAIL_FROM is required when MCP_ALERT_EMAIL_SMTP_HOST is set"},
		// Recipients without a host.
		{"to without host", with(EnvEmailTo, "a@b"),
			"MCP_ALERT_EMAIL_SMTP_HOST is required when MCP_ALERT_EMAIL_TO is set"},
		// Only commas.
		{"empty to", with(EnvEmailSMTPHost, "mx", EnvEmailFrom, "a@b", EnvEmailTo, " , "),
			"MCP_ALERT_EMAIL_TO: no recipient addresses (want a comma-separated list)"},
		// A port that is not a number.
		{"bad port word", merge(base, EnvEmailSMTPPort, "smtp"),
			`MCP_ALERT_EMAIL_SMTP_PORT: invalid port "smtp" (want 1-65535)`},
		// A port out of range.
		{"bad port range", merge(base, EnvEmailSMTPPort, "70000"),
			`MCP_ALERT_EMAIL_SMTP_PORT: invalid port "70000" (want 1-65535)`},
		// A user without a password.
		{"user without password", merge(base, EnvEmailUsername, "u"),
			"MCP_ALERT_EMAIL_PASSWORD is required when MCP_ALERT_EMAIL_USERNAME is set"},
		// A password without a user.
		{"password without user", merge(base, EnvEmailPassword, "p"),
			"MCP_ALERT_EMAIL_USERNAME is required when MCP_ALERT_EMAIL_PASSWORD is set"},
		// A Slack token without a channel.
		{"slack token without channel", with(EnvSlackToken, "xoxb-1"),
			"MCP_ALERT_SLACK_CHANNEL is required when MCP_ALERT_SLACK_TOKEN is set"},
		// A Slack channel without a token.
		{"slack channel without token", with(EnvSlackChannel, "#a"),
			"MCP_ALERT_SLACK_TOKEN is required when MCP_ALERT_SLACK_CHANNEL is set"},
		// Both ways of reaching Slack.
		{"slack token and webhook", with(EnvSlackToken, "xoxb-1", EnvSlackChannel, "#a", EnvSlackWebhookURL, "https://hooks.slack.com/x"),
			"set MCP_ALERT_SLACK_TOKEN or MCP_ALERT_SLACK_WEBHOOK_URL, not both"},
		// A channel with an incoming webhook.
		{"slack webhook and channel", with(EnvSlackChannel, "#a", EnvSlackWebhookURL, "https://hooks.slack.com/x"),
			"MCP_ALERT_SLACK_CHANNEL works only with MCP_ALERT_SLACK_TOKEN (an incoming webhook posts to the channel it was made for); unset one of MCP_ALERT_SLACK_CHANNEL and MCP_ALERT_SLACK_WEBHOOK_URL"},
		// A webhook secret without a URL.
		{"secret without url", with(EnvWebhookSecret, "whsec_x"),
			"MCP_ALERT_WEBHOOK_URL is required when MCP_ALERT_WEBHOOK_SECRET is set"},
		// The channel type's own validation names the variable.
		{"bad webhook url", with(EnvWebhookURL, "ftp://x"),
			"MCP_ALERT_WEBHOOK_URL: must be an http(s) URL"},
		// Several problems are all reported.
		{"several", with(EnvSlackToken, "xoxb-1", EnvEmailSMTPHost, "mx"),
			"MCP_ALERT_EMAIL_FROM is required when MCP_ALERT_EMAIL_SMTP_HOST is set\n" +
				"MCP_ALERT_EMAIL_TO is required when MCP_ALERT_EMAIL_SMTP_HOST is set\n" +
				"MCP_ALERT_SLACK_CHANNEL is required when MCP_ALERT_SLACK_TOKEN is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := FromEnv(envFunc(tt.env), fakeOpts(nil))
			require.Nil(t, cfg)
			var probs Problems
			require.True(t, errors.As(err, &probs))
			require.Equal(t, tt.want, err.Error())
		})
	}
}

func merge(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestFromEnv_UnregisteredType(t *testing.T) {
	t.Parallel()
	opts := fakeOpts(nil)
	delete(opts.ChannelTypes, "pagerduty")
	_, err := FromEnv(envFunc(map[string]string{EnvPagerDutyRoutingKey: "k"}), opts)
	require.EqualError(t, err, `MCP_ALERT_PAGERDUTY_ROUTING_KEY: unknown channel type "pagerduty"; known types: console, email, slack, webhook`)
}

func TestConfig_ApplyEnv(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("klaxon.yml", []byte(minimalYAML+`  - notify: [webhook]
`), fakeOpts(nil))
	// The file names a channel only the environment defines: Parse alone
	// refuses it.
	require.Error(t, err)
	require.Nil(t, cfg)

	cfg, err = Parse("klaxon.yml", []byte(minimalYAML), fakeOpts(nil))
	require.NoError(t, err)
	env := map[string]string{
		EnvWebhookURL:          "https://hooks.example.com/env",
		EnvPagerDutyRoutingKey: "k",
		// Broken Slack variables do not matter when the file has a slack
		// channel.
		EnvSlackToken: "xoxb-1",
	}
	cfg.Channels["slack"] = &Channel{Name: "slack", Type: "slack"}
	require.NoError(t, cfg.ApplyEnv(envFunc(env), fakeOpts(nil)))
	require.Equal(t, []string{"ops", "pagerduty", "slack", "webhook"}, keys(cfg.Channels))
	require.Equal(t, "https://hooks.example.com/env", cfg.Channels["webhook"].Config.(*fakeWebhook).URL)
	// The file's routes stay.
	require.Len(t, cfg.Routes, 1)
	require.Equal(t, []string{"ops"}, cfg.Routes[0].Notify)

	// A file channel of the same name wins over the environment.
	delete(env, EnvSlackToken)
	cfg2, err := Parse("klaxon.yml", []byte("channels:\n  webhook: {type: webhook, url: 'http://file'}\n"), fakeOpts(nil))
	require.NoError(t, err)
	require.NoError(t, cfg2.ApplyEnv(envFunc(env), fakeOpts(nil)))
	require.Equal(t, "http://file", cfg2.Channels["webhook"].Config.(*fakeWebhook).URL)
	// No routes in the file: the default routes cover every channel.
	require.Len(t, cfg2.Routes, 2)
	require.Equal(t, []string{"pagerduty"}, cfg2.Routes[0].Notify)
	require.Equal(t, []string{"webhook"}, cfg2.Routes[1].Notify)

	// On error the configuration is unchanged.
	before := fmt.Sprint(keys(cfg2.Channels))
	err = cfg2.ApplyEnv(envFunc(map[string]string{EnvEmailSMTPHost: "mx"}), fakeOpts(nil))
	require.Error(t, err)
	require.Equal(t, before, fmt.Sprint(keys(cfg2.Channels)))
}
