package config

import (
	"errors"
	"fmt"
	ktemplate "github.com/klaxonhq/klaxon/template"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/secret"
)

// The real channel configurations live in notify/*; these fakes have the
// same shape (yaml tags, secrets, durations, Validate with FieldError).

type fakeWebhook struct {
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"`
	Headers map[string]string `yaml:"headers"`
	Secret  secret.String     `yaml:"secret"`
	Secrets []secret.String   `yaml:"secrets"`
	Timeout time.Duration     `yaml:"timeout"`
	Format  string            `yaml:"format"`
}

func (c *fakeWebhook) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, &FieldError{Field: "url", Msg: "required"})
	} else if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		errs = append(errs, &FieldError{Field: "url", Msg: "must be an http(s) URL"})
	}
	if c.Method != "" && c.Method != "POST" && c.Method != "PUT" {
		errs = append(errs, fmt.Errorf("webhook: %w", &FieldError{Field: "method", Msg: "want POST or PUT"}))
	}
	return errors.Join(errs...)
}

type fakeEmail struct {
	SMTPHost string          `yaml:"smtp_host"`
	SMTPPort int             `yaml:"smtp_port"`
	TLS      string          `yaml:"tls"`
	Username string          `yaml:"username"`
	Password secret.String   `yaml:"password"`
	From     string          `yaml:"from"`
	To       []string        `yaml:"to"`
	Extra    fakeEmailExtras `yaml:",inline"`
}

type fakeEmailExtras struct {
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

func (c *fakeEmail) Validate() error {
	if c.SMTPHost == "" {
		return &FieldError{Field: "smtp_host", Msg: "required"}
	}
	if c.SMTPPort < 0 || c.SMTPPort > 65535 {
		return &FieldError{Field: "smtp_port", Msg: "must be 1-65535"}
	}
	if len(c.To) == 0 {
		return &FieldError{Field: "to", Msg: "required"}
	}
	return nil
}

type fakeSlack struct {
	Token      secret.String `yaml:"token"`
	Channel    string        `yaml:"channel"`
	WebhookURL secret.String `yaml:"webhook_url"`
	APIURL     string        `yaml:"api_url"`
}

// Validate words its error "prefix: key: message" without a FieldError,
// as some channel packages do.
func (c *fakeSlack) Validate() error {
	if !c.Token.IsZero() && c.Channel == "" {
		return fmt.Errorf("invalid slack config: channel: required with token")
	}
	if c.APIURL == "bad" {
		return errors.New("api_url is bad: no")
	}
	return nil
}

type fakePagerDuty struct {
	RoutingKey  secret.String     `yaml:"routing_key"`
	EventsURL   string            `yaml:"events_url"`
	SeverityMap map[string]string `yaml:"severity_map"`
}

type fakeConsole struct {
	Color bool `yaml:"color"`
}

func fakeTypes() map[string]ChannelType {
	return map[string]ChannelType{
		"webhook":   {NewConfig: func() any { return new(fakeWebhook) }},
		"email":     {NewConfig: func() any { return new(fakeEmail) }},
		"slack":     {NewConfig: func() any { return new(fakeSlack) }},
		"pagerduty": {NewConfig: func() any { return new(fakePagerDuty) }},
		"console":   {NewConfig: func() any { return new(fakeConsole) }},
	}
}

// fakeParseCondition accepts "NAME OP NUMBER" (and "absent(NAME)") and
// reports errors the way rule.Parse does: "col N: msg".
func fakeParseCondition(s string) error {
	if strings.HasPrefix(s, "absent(") {
		return nil
	}
	f := strings.Fields(s)
	if len(f) != 3 {
		return fmt.Errorf("col %d: want metric, operator and threshold", len(s)+1)
	}
	switch f[1] {
	case ">", ">=", "<", "<=", "==", "!=":
	default:
		return fmt.Errorf("col %d: unknown operator %q", strings.Index(s, f[1])+1, f[1])
	}
	var x float64
	if _, err := fmt.Sscan(f[2], &x); err != nil {
		return fmt.Errorf("col %d: bad number %q", strings.LastIndex(s, f[2])+1, f[2])
	}
	return nil
}

// fakeCheckTemplate is the real template check (its helpers and sample
// alerts), so the embedded default's texts are checked as klaxon does.
func fakeCheckTemplate(name, text string) error {
	return ktemplate.Check(name, text)
}

func fakeOpts(env map[string]string) *LoadOptions {
	return &LoadOptions{
		ChannelTypes:   fakeTypes(),
		Getenv:         func(k string) string { return env[k] },
		ParseCondition: fakeParseCondition,
		CheckTemplate:  fakeCheckTemplate,
	}
}
