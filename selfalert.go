package klaxon

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
)

// SelfAlertName is the alertname of the alert klaxon raises about itself
// when a channel keeps failing (circuit open, endpoint gone, retry budget
// spent). It is routed to every other channel, never to the failing one.
const SelfAlertName = "klaxon_channel_failing"

func (e *Engine) selfAlertLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case h := <-e.selfq:
			if err := e.selfAlert(ctx, h); err != nil && ctx.Err() == nil {
				e.log.Error("raise self-alert", "channel", h.Name, "err", err)
			}
		}
	}
}

func (e *Engine) selfAlert(ctx context.Context, h notify.ChannelHealth) error {
	labels := alert.Labels{"alertname": SelfAlertName, "channel": h.Name, "source": "klaxon"}
	if h.Healthy {
		_, err := e.manager.Push(ctx, []lifecycle.Pushed{{Labels: labels, Resolved: true}})
		return err
	}
	var others []string
	for name := range e.channels {
		if name != h.Name {
			others = append(others, name)
		}
	}
	if len(others) == 0 {
		e.log.Error("channel is failing and there is no other channel to tell", "channel", h.Name, "last_error", h.LastError)
	}
	e.log.Warn("channel is failing", "channel", h.Name, "circuit", h.Circuit, "last_error", h.LastError)
	_, err := e.manager.Push(ctx, []lifecycle.Pushed{{
		Labels:      labels,
		Severity:    alert.High,
		Summary:     "Notification channel " + h.Name + " is failing",
		Description: "klaxon cannot deliver through channel " + h.Name + " (circuit " + h.Circuit + "): " + h.LastError,
		Annotations: map[string]string{"channel_type": h.Type},
		// It stays open while the channel is unhealthy; markOK resolves it.
		EndsAt:   e.now().Add(24 * time.Hour),
		Channels: others,
	}})
	return err
}
