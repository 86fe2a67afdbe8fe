package klaxon

import "context"

// RefreshSelfAlerts runs the leader's periodic self-alert refresh now.
func (e *Engine) RefreshSelfAlerts(ctx context.Context) { e.refreshSelfAlerts(ctx) }
