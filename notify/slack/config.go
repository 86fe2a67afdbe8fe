package slack

import (
	"cmp"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/secret"
)

// DefaultAPIURL is Slack's Web API base, used when Config.APIURL is empty.
const DefaultAPIURL = "https://slack.com/api/"

// DefaultTimeout bounds one Send (all its HTTP calls) when Config.Timeout is
// zero.
const DefaultTimeout = 10 * time.Second

// ErrInvalidConfig is matched (errors.Is) by every error Validate returns.
var ErrInvalidConfig = errors.New("invalid slack config")

// Config is one Slack channel's configuration (the keys beside `type: slack`).
// Exactly one mode must be set: Web API (Token and Channel) or incoming
// webhook (WebhookURL). Printing a Config never shows the token or the URL.
type Config struct {
	// Token is a bot token (xoxb-...) with the chat:write scope. Web API mode.
	Token secret.String `yaml:"token" json:"token"`
	// Channel is the channel to post to: an ID (C0123456789) or a name
	// (#alerts). Later updates use the ID Slack returns. Web API mode.
	Channel string `yaml:"channel" json:"channel"`
	// WebhookURL is an incoming-webhook URL
	// (https://hooks.slack.com/services/T.../B.../...). The whole URL is a
	// secret. Webhook mode cannot update messages: every notification is a
	// new message.
	WebhookURL secret.String `yaml:"webhook_url" json:"webhook_url"`
	// APIURL is the Web API base; default DefaultAPIURL. A missing trailing
	// "/" is added. Point it at a test server or a proxy.
	APIURL string `yaml:"api_url" json:"api_url"`
	// Username overrides the bot's display name; empty keeps the app's.
	// Incoming webhooks created by Slack apps ignore it.
	Username string `yaml:"username" json:"username"`
	// IconEmoji overrides the bot's icon, like ":rotating_light:"; empty
	// keeps the app's. Incoming webhooks created by Slack apps ignore it.
	IconEmoji string `yaml:"icon_emoji" json:"icon_emoji"`
	// Timeout bounds one Send, including the update and the thread reply;
	// default DefaultTimeout (10s). Zero means the default.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
}

// WithDefaults returns a copy with zero fields set to their defaults and the
// API URL ending in "/".
func (c Config) WithDefaults() Config {
	c.APIURL = cmp.Or(strings.TrimSpace(c.APIURL), DefaultAPIURL)
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	return c
}

// webhookMode reports whether the configuration posts to an incoming webhook.
func (c *Config) webhookMode() bool { return !c.WebhookURL.IsZero() }

// FieldError is one configuration problem. Its message starts with the YAML
// key ("channel: required with token"). It matches ErrInvalidConfig.
type FieldError struct {
	// Field is the YAML key.
	Field string
	// Problem says what is wrong, without the value (it may be a secret).
	Problem string
}

// Error returns "field: problem".
func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Is matches ErrInvalidConfig.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidConfig }

// Validate checks the configuration. It returns nil or the joined
// *FieldError values, one per problem; no message contains a secret.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, problem string) { errs = append(errs, &FieldError{Field: field, Problem: problem}) }

	hasAPI := !c.Token.IsZero() || strings.TrimSpace(c.Channel) != ""
	switch {
	case c.webhookMode() && hasAPI:
		add("webhook_url", "set either webhook_url or token and channel, not both")
	case c.webhookMode():
		if !validHTTPURL(c.WebhookURL.Reveal()) {
			add("webhook_url", "must be an absolute http or https URL")
		}
	case c.Token.IsZero() && strings.TrimSpace(c.Channel) == "":
		add("token", "required (with channel), or set webhook_url")
	case c.Token.IsZero():
		add("token", "required with channel")
	case strings.TrimSpace(c.Channel) == "":
		add("channel", "required with token")
	}
	if !c.Token.IsZero() && strings.ContainsAny(c.Token.Reveal(), " \t\r\n") {
		add("token", "must not contain white space")
	}
	if c.APIURL != "" && !validHTTPURL(c.APIURL) {
		add("api_url", "must be an absolute http or https URL")
	}
	if c.IconEmoji != "" && (len(c.IconEmoji) < 3 || !strings.HasPrefix(c.IconEmoji, ":") || !strings.HasSuffix(c.IconEmoji, ":")) {
		add("icon_emoji", "must look like :name:")
	}
	if c.Timeout < 0 {
		add("timeout", "must not be negative")
	}
	return errors.Join(errs...)
}

func validHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
