package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Secret values used below; none may appear in any output.
var secretValues = []string{"tok-SECRET-1", "db-SECRET-2", "whsec_SECRET3", "xoxb-SECRET-4", "pd-SECRET-5", "pw-SECRET-6"}

func requireNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, v := range secretValues {
		require.NotContains(t, s, v)
	}
}

func TestSecrets_NotPrinted(t *testing.T) {
	t.Parallel()
	src := `server:
  listen: 0.0.0.0:9095
  api_token: ${TOKEN}
  database_url: postgres://u:${DB}@h/db
channels:
  ops: {type: webhook, url: 'http://x', secret: whsec_SECRET3}
`
	env := map[string]string{
		"TOKEN": "tok-SECRET-1", "DB": "db-SECRET-2",
		EnvSlackToken: "xoxb-SECRET-4", EnvSlackChannel: "#a",
		EnvPagerDutyRoutingKey: "pd-SECRET-5",
		EnvEmailSMTPHost:       "mx", EnvEmailFrom: "a@b", EnvEmailTo: "c@d",
		EnvEmailUsername: "u", EnvEmailPassword: "pw-SECRET-6",
	}
	cfg, err := Parse("klaxon.yml", []byte(src), fakeOpts(env))
	require.NoError(t, err)
	require.NoError(t, cfg.ApplyEnv(envFunc(env), fakeOpts(env)))
	require.Equal(t, "tok-SECRET-1", cfg.Server.APIToken.Reveal())

	requireNoSecret(t, fmt.Sprintf("%+v", cfg))
	requireNoSecret(t, fmt.Sprintf("%#v", cfg))
	requireNoSecret(t, fmt.Sprintf("%+v", *cfg))
	for _, ch := range cfg.Channels {
		requireNoSecret(t, fmt.Sprintf("%+v %v", ch, *ch))
		requireNoSecret(t, fmt.Sprintf("%+v %#v", ch.Config, ch.Config))
	}
}

func TestSecrets_NotInProblems(t *testing.T) {
	t.Parallel()
	// Expanded values land in fields of the wrong type or fail checks:
	// messages quote the ${VAR} text, never the value.
	src := `server:
  listen: ${TOKEN}
history:
  max_resolved: ${DB}
  retention: ${TOKEN}
channels:
  ops: {type: webhook, url: '${TOKEN}', secret: [whsec_SECRET3]}
`
	env := map[string]string{"TOKEN": "tok-SECRET-1", "DB": "db-SECRET-2"}
	probs := problemsOf(t, src, fakeOpts(env))
	out := probs.Error()
	requireNoSecret(t, out)
	require.Contains(t, out, `history.max_resolved: expected an integer, got "${DB}"`)
	require.Contains(t, out, `history.retention: invalid duration "${TOKEN}"`)

	// Environment channels never echo a value either.
	envProbs := map[string]string{
		EnvEmailSMTPHost: "mx", EnvEmailFrom: "a@b", EnvEmailTo: "c@d",
		EnvEmailPassword: "pw-SECRET-6", EnvSlackToken: "xoxb-SECRET-4",
		EnvSlackWebhookURL: "https://hooks.slack.com/whsec_SECRET3",
	}
	_, err := FromEnv(envFunc(envProbs), fakeOpts(nil))
	require.Error(t, err)
	requireNoSecret(t, err.Error())
	require.True(t, strings.Contains(err.Error(), EnvEmailUsername))
}
