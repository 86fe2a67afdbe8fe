package klaxon

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/notify"
)

// RefreshSelfAlerts runs the leader's periodic self-alert refresh now.
func (e *Engine) RefreshSelfAlerts(ctx context.Context) { e.refreshSelfAlerts(ctx) }

// SetChannelView makes f decide, from the dispatcher's view, what this
// engine sees of its channels (call before Run): a test makes a channel
// fail on one replica only.
func (e *Engine) SetChannelView(f func(own []notify.ChannelHealth) []notify.ChannelHealth) {
	real := e.disp.Health
	e.health.view = func() []notify.ChannelHealth { return f(real()) }
}

// SetBoardTiming shortens how often the leader reconciles, how often a
// replica reports, and when a report is stale (call before Run).
func (e *Engine) SetBoardTiming(every, report, stale time.Duration) {
	e.health.every, e.health.report, e.health.stale = every, report, stale
}

// ChannelHealthChanged hands h to the self-alert loop as the dispatcher
// does when a channel's health changes.
func (e *Engine) ChannelHealthChanged(h notify.ChannelHealth) { e.selfq <- h }

// Owner is the engine's replica id.
func (e *Engine) Owner() string { return e.owner }
