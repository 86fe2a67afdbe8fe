package notify

import (
	"slices"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
)

// ChannelHealth is a channel's state as `GET /api/v1/channels` shows it.
type ChannelHealth struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Circuit is "closed", "half-open" or "open".
	Circuit string `json:"circuit"`
	// Healthy is false while the circuit is open, after the endpoint said
	// it is gone, or after notifications ran out of retry budget, until a
	// send succeeds again.
	Healthy  bool `json:"healthy"`
	Disabled bool `json:"disabled"`
	// Pending counts notifications held in memory for this channel, queued
	// or in flight (at most about DispatcherOptions.MaxHeld of a backlog).
	Pending int `json:"pending"`
	// Queued counts this channel's unfinished notifications in the store,
	// held or not, as of the last sweep (at most SweepInterval old).
	Queued    int       `json:"queued"`
	Sent      int64     `json:"sent"`
	Failed    int64     `json:"failed"`
	LastError string    `json:"last_error,omitempty"`
	LastErrAt time.Time `json:"last_error_at,omitzero"`
	LastOKAt  time.Time `json:"last_success_at,omitzero"`
}

// Health returns every channel's health, sorted by name.
func (d *Dispatcher) Health() []ChannelHealth {
	out := make([]ChannelHealth, 0, len(d.workers))
	for _, w := range d.workers {
		w.mu.Lock()
		h := w.health
		h.Healthy = w.healthy
		w.mu.Unlock()
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b ChannelHealth) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (w *worker) setCircuit(s gobreaker.State) {
	w.mu.Lock()
	w.health.Circuit = s.String()
	changed := false
	if s == gobreaker.StateOpen && w.healthy {
		w.healthy, changed = false, true
	}
	h := w.health
	h.Healthy = w.healthy
	w.mu.Unlock()
	if changed && w.d.onHealth != nil {
		w.d.onHealth(h)
	}
}

func (w *worker) markOK() {
	w.mu.Lock()
	w.health.Sent++
	w.health.LastOKAt = w.d.now()
	changed := !w.healthy
	w.healthy = true
	h := w.health
	h.Healthy = true
	w.mu.Unlock()
	if changed && w.d.onHealth != nil {
		w.d.onHealth(h)
	}
}

func (w *worker) markErr(err error) {
	w.mu.Lock()
	w.health.LastError = Describe(err)
	w.health.LastErrAt = w.d.now()
	w.mu.Unlock()
}

// markExhausted marks the channel unhealthy: a notification failed for
// good for a reason that is about the channel (failure counts it).
func (w *worker) markExhausted() {
	w.mu.Lock()
	changed := w.healthy
	w.healthy = false
	h := w.health
	h.Healthy = false
	w.mu.Unlock()
	if changed && w.d.onHealth != nil {
		w.d.onHealth(h)
	}
}

func (w *worker) setGone(err error) {
	w.mu.Lock()
	w.health.Disabled = true
	w.mu.Unlock()
	w.markExhausted()
}

func (w *worker) isGone() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.health.Disabled
}

func (w *worker) lastError() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.health.LastError == "" {
		return "channel failing"
	}
	return w.health.LastError
}
