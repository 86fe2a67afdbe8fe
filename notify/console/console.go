// Package console is the channel that prints each notification as one line
// on a writer (standard output by default). It is the embedded default's
// channel, so a first run shows the whole path from metric to notification
// without any outside service.
package console

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// Config is the console channel's YAML configuration.
type Config struct {
	// Color adds ANSI colours by severity; default false.
	Color bool `yaml:"color"`
}

// Option adjusts a Channel.
type Option func(*Channel)

// WithWriter prints to w instead of standard output.
func WithWriter(w io.Writer) Option { return func(c *Channel) { c.w = w } }

// Channel prints notifications. It is safe for concurrent use.
type Channel struct {
	name  string
	color bool
	// mu keeps lines whole when sends run concurrently.
	mu sync.Mutex
	w  io.Writer
}

var _ notify.Channel = (*Channel)(nil)

// New builds a console channel.
func New(name string, cfg Config, opts ...Option) (*Channel, error) {
	c := &Channel{name: name, color: cfg.Color, w: os.Stdout}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Type returns "console".
func (c *Channel) Type() string { return "console" }

// Send prints one line per alert in the notification.
func (c *Channel) Send(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, err
	}
	var b strings.Builder
	for i := range n.Alerts {
		c.line(&b, n, &n.Alerts[i])
	}
	c.mu.Lock()
	_, err := io.WriteString(c.w, b.String())
	c.mu.Unlock()
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("write: %w", err)
	}
	return notify.Receipt{Detail: "printed"}, nil
}

var colors = map[alert.Severity]string{
	alert.Critical: "\x1b[1;31m", alert.High: "\x1b[31m", alert.Medium: "\x1b[33m",
	alert.Low: "\x1b[32m", alert.Info: "\x1b[36m",
}

func (c *Channel) line(b *strings.Builder, n *notify.Notification, ev *notify.AlertEvent) {
	a := ev.Alert
	at := a.UpdatedAt
	if at.IsZero() {
		at = n.CreatedAt
	}
	b.WriteString(at.UTC().Format(time.RFC3339))
	b.WriteByte(' ')
	state := strings.ToUpper(strings.TrimPrefix(string(n.Event), "alert."))
	if c.color {
		b.WriteString(colors[a.Severity])
	}
	fmt.Fprintf(b, "[%s] %s", strings.ToUpper(a.Severity.String()), state)
	if c.color {
		b.WriteString("\x1b[0m")
	}
	name := a.RuleName
	if name == "" {
		name = a.RuleID
	}
	if name == "" {
		name = a.Labels["alertname"]
	}
	fmt.Fprintf(b, " %s", name)
	if a.Summary != "" {
		fmt.Fprintf(b, ": %s", a.Summary)
	}
	b.WriteString(" value=")
	b.WriteString(strconv.FormatFloat(a.Value, 'g', 6, 64))
	if a.Threshold != nil {
		b.WriteString(" threshold=")
		b.WriteString(strconv.FormatFloat(*a.Threshold, 'g', 6, 64))
	}
	if len(a.Labels) > 0 {
		b.WriteString(" labels=")
		b.WriteString(a.Labels.String())
	}
	if a.AcknowledgedBy != "" && n.Event == notify.EventAcknowledged {
		fmt.Fprintf(b, " by=%s", a.AcknowledgedBy)
	}
	fmt.Fprintf(b, " id=%s seq=%d\n", a.ID, a.Sequence)
}
