package klaxon

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// Self-alerts about channels come from every replica's view of them: each
// replica of a set reports its channels' health through the store
// (store.HealthBoard), and the leader raises the alert about a channel that
// fails on any replica, so a follower with a network path of its own is
// heard too. One process on SQLite has only its own view.
const (
	// boardEvery is how often the leader reconciles self-alerts with the
	// reports (and reads them again).
	boardEvery = 5 * time.Second
	// boardReport is how often a replica reports when nothing changed; it
	// also reports at once on every change of a channel's health.
	boardReport = 15 * time.Second
	// boardStale is the age past which a report no longer counts: its
	// replica stopped (it sends nothing more) or lost the database.
	boardStale = 45 * time.Second
)

// channelHealth decides the self-alerts about channels. Its methods run on
// the self-alert loop and, at a takeover, on the campaign's goroutine; mu
// serialises them.
type channelHealth struct {
	board                store.HealthBoard // nil when the store serves one process
	every, report, stale time.Duration

	// view returns this replica's view (the dispatcher's health).
	view func() []notify.ChannelHealth

	mu         sync.Mutex
	lastReport time.Time
	// others are the other replicas' reports as last read, at readAt.
	others []store.ChannelReport
	readAt time.Time
	// raised is, per channel, what the leader last pushed about it: the
	// failing replicas and their circuits, "" for resolved. A channel not
	// in it is pushed at its next reconcile.
	raised map[string]string
}

// failure is one replica's failing view of a channel.
type failure struct {
	replica, circuit, lastError, typ string
}

// reportHealth writes this replica's view to the board.
func (e *Engine) reportHealth(ctx context.Context) {
	ch := e.health
	if ch.board == nil {
		return
	}
	view := ch.view()
	reports := make([]store.ChannelReport, 0, len(view))
	for _, h := range view {
		reports = append(reports, store.ChannelReport{
			Channel: h.Name, Type: h.Type, Healthy: h.Healthy, Circuit: h.Circuit, LastError: h.LastError,
		})
	}
	if err := ch.board.ReportChannels(ctx, e.owner, reports); err != nil {
		if ctx.Err() == nil {
			e.log.Warn("report channel health to the other replicas", "err", err)
		}
		return
	}
	ch.mu.Lock()
	ch.lastReport = e.now()
	ch.mu.Unlock()
}

// reportDue says whether a heartbeat report is due.
func (e *Engine) reportDue() bool {
	ch := e.health
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.board != nil && e.now().Sub(ch.lastReport) >= ch.report
}

// readBoard reads the other replicas' reports; on failure the last ones
// stay, ageing, until they are stale.
func (e *Engine) readBoard(ctx context.Context) {
	ch := e.health
	if ch.board == nil {
		return
	}
	reports, err := ch.board.ChannelReports(ctx, ch.stale)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("read the other replicas' channel health", "err", err)
		}
		return
	}
	reports = slices.DeleteFunc(reports, func(r store.ChannelReport) bool { return r.Replica == e.owner })
	ch.mu.Lock()
	ch.others, ch.readAt = reports, e.now()
	ch.mu.Unlock()
}

// reconcileSelfAlerts raises or resolves the self-alert of every configured
// channel whose failing replicas changed since the last push; force pushes
// them all (a new term, the periodic refresh that moves end times on).
func (e *Engine) reconcileSelfAlerts(ctx context.Context, force bool) {
	names := make([]string, 0, len(e.channels))
	for name := range e.channels {
		names = append(names, name)
	}
	slices.Sort(names)
	ch := e.health
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if force {
		ch.raised = map[string]string{}
	}
	view := ch.view()
	for _, name := range names {
		fails := ch.failures(name, view, e.owner, e.now())
		key := failuresKey(fails)
		if last, pushed := ch.raised[name]; pushed && last == key {
			continue
		}
		if err := e.pushSelfAlert(ctx, name, fails, ch.board != nil); err != nil {
			if ctx.Err() == nil {
				e.log.Error("raise self-alert", "channel", name, "err", err)
			}
			continue
		}
		ch.raised[name] = key
	}
}

// failures lists the replicas on which channel name fails: this one from
// its live view, the others from their fresh reports. Must hold mu.
func (ch *channelHealth) failures(name string, view []notify.ChannelHealth, self string, now time.Time) []failure {
	var out []failure
	for _, h := range view {
		if h.Name == name && !h.Healthy {
			out = append(out, failure{replica: self, circuit: h.Circuit, lastError: h.LastError, typ: h.Type})
		}
	}
	since := now.Sub(ch.readAt)
	for _, r := range ch.others {
		if r.Channel == name && !r.Healthy && r.Age+since < ch.stale {
			out = append(out, failure{replica: r.Replica, circuit: r.Circuit, lastError: r.LastError, typ: r.Type})
		}
	}
	return out
}

// failuresKey is what a self-alert says, for telling whether it changed:
// which replicas fail, with which circuit state.
func failuresKey(fails []failure) string {
	parts := make([]string, len(fails))
	for i, f := range fails {
		parts[i] = f.replica + "/" + f.circuit
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// pushSelfAlert raises the self-alert about channel with what fails, or
// resolves it when nothing does. A replica set names the replicas.
func (e *Engine) pushSelfAlert(ctx context.Context, channel string, fails []failure, replicas bool) error {
	labels := alert.Labels{"alertname": SelfAlertName, "channel": channel, "source": "klaxon"}
	if len(fails) == 0 {
		_, err := e.manager.Push(ctx, []lifecycle.Pushed{{Labels: labels, Resolved: true}})
		return err
	}
	var others []string
	for name := range e.channels {
		if name != channel {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	if len(others) == 0 {
		e.log.Error("channel is failing and there is no other channel to tell", "channel", channel, "last_error", fails[0].lastError)
	}
	var desc strings.Builder
	desc.WriteString("klaxon cannot deliver through channel " + channel)
	names := make([]string, len(fails))
	for i, f := range fails {
		names[i] = f.replica
		if i > 0 {
			desc.WriteString(";")
		}
		if replicas {
			desc.WriteString(" from replica " + f.replica)
		}
		desc.WriteString(" (circuit " + f.circuit + "): " + f.lastError)
		e.log.Warn("channel is failing", "channel", channel, "replica", f.replica, "circuit", f.circuit, "last_error", f.lastError)
	}
	ann := map[string]string{"channel_type": fails[0].typ}
	if replicas {
		ann["replicas"] = strings.Join(names, ", ")
	}
	_, err := e.manager.Push(ctx, []lifecycle.Pushed{{
		Labels:      labels,
		Severity:    alert.High,
		Summary:     "Notification channel " + channel + " is failing",
		Description: desc.String(),
		Annotations: ann,
		// It stays open while the channel is unhealthy (raised again every
		// selfAlertRefresh); a recovery resolves it. The end time only ends
		// it should klaxon stop looking.
		EndsAt:   e.now().Add(24 * time.Hour),
		Channels: others,
	}})
	return err
}
