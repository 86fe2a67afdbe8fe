package klaxon

import (
	"context"
	"errors"
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

// boardTimeout bounds one report or read, so a hung database cannot stall
// the self-alert loop.
const boardTimeout = 5 * time.Second

// channelHealth decides the self-alerts about channels. Its methods run on
// the self-alert loop and, at a takeover, on the campaign's goroutine; mu
// serialises them. Report times are real time (time.Now), not the engine's
// clock: reports age on the database's clock, which a test's fake clock
// does not move.
type channelHealth struct {
	board                store.HealthBoard // nil when the store serves one process
	every, report, stale time.Duration
	// view returns this replica's view (the dispatcher's health).
	view func() []notify.ChannelHealth

	mu         sync.Mutex
	lastReport time.Time
	// others are the other replicas' reports as last read, at readAt; read
	// is false until a read succeeds in this term.
	others []store.ChannelReport
	readAt time.Time
	read   bool
	// refreshAfterRead is set when a forced reconcile could not read the
	// board: the next successful read forces one again.
	refreshAfterRead bool
	// raised is, per channel, which replicas the leader last said it fails
	// on ("" for resolved). A channel not in it has not been pushed this
	// term.
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
	rctx, cancel := context.WithTimeout(ctx, boardTimeout)
	defer cancel()
	if err := ch.board.ReportChannels(rctx, e.owner, reports); err != nil {
		if ctx.Err() == nil {
			e.log.Warn("report channel health to the other replicas", "err", err)
		}
		return
	}
	ch.mu.Lock()
	ch.lastReport = time.Now()
	ch.mu.Unlock()
}

// withdrawHealth removes this replica's reports as it stops, so the leader
// no longer counts a replica that delivers nothing more.
func (e *Engine) withdrawHealth(ctx context.Context) {
	if e.health.board == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), boardTimeout)
	defer cancel()
	if err := e.health.board.ReportChannels(rctx, e.owner, nil); err != nil {
		e.log.Warn("withdraw channel health reports", "err", err)
	}
}

// reportDue says whether a heartbeat report is due.
func (e *Engine) reportDue() bool {
	ch := e.health
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.board != nil && time.Since(ch.lastReport) >= ch.report
}

// readBoard reads the other replicas' reports and says whether it could;
// on failure the last ones stay, ageing, until they are stale. Without a
// board there is nothing to read, and it says true.
func (e *Engine) readBoard(ctx context.Context) bool {
	ch := e.health
	if ch.board == nil {
		return true
	}
	rctx, cancel := context.WithTimeout(ctx, boardTimeout)
	defer cancel()
	reports, err := ch.board.ChannelReports(rctx, ch.stale)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("read the other replicas' channel health", "err", err)
		}
		return false
	}
	reports = slices.DeleteFunc(reports, func(r store.ChannelReport) bool { return r.Replica == e.owner })
	ch.mu.Lock()
	ch.others, ch.readAt, ch.read = reports, time.Now(), true
	ch.mu.Unlock()
	return true
}

// forgetBoard drops what the last term read: a replica that leads again
// reads the board afresh before it resolves anything.
func (e *Engine) forgetBoard() {
	ch := e.health
	ch.mu.Lock()
	ch.others, ch.read, ch.refreshAfterRead = nil, false, false
	ch.mu.Unlock()
}

// reconcileSelfAlerts raises or resolves the self-alert of every configured
// channel whose failing replicas changed since the last push. force pushes
// them all (a new term, the periodic refresh that moves end times on and
// carries a changed circuit state into the description), and resolves
// those of channels no longer configured.
//
// A resolve needs evidence: with a board, a successful read in this term
// (a takeover whose read failed must not resolve an outage a follower still
// reports; the next successful read forces a reconcile), and outside a
// forced reconcile, an earlier push about the channel (a restarted process
// whose fresh dispatcher has seen nothing yet does not resolve what it
// restored; the refresh does, if nothing fails by then).
func (e *Engine) reconcileSelfAlerts(ctx context.Context, force bool) {
	names := make([]string, 0, len(e.channels))
	for name := range e.channels {
		names = append(names, name)
	}
	slices.Sort(names)
	ch := e.health
	ch.mu.Lock()
	defer ch.mu.Unlock()
	boardKnown := ch.board == nil || ch.read
	if force {
		ch.raised = map[string]string{}
		ch.refreshAfterRead = !boardKnown
	}
	view := ch.view()
	for _, name := range names {
		fails := ch.failures(name, view, e.owner)
		key := failuresKey(fails)
		last, pushed := ch.raised[name]
		switch {
		case pushed && last == key:
			continue
		case key == "" && (!boardKnown || !pushed && !force):
			continue
		}
		if err := e.pushSelfAlert(ctx, name, fails, ch.board != nil); err != nil {
			if ctx.Err() == nil && !errors.Is(err, store.ErrNotLeader) {
				e.log.Error("raise self-alert", "channel", name, "err", err)
			}
			continue
		}
		ch.raised[name] = key
	}
	if force && boardKnown {
		e.resolveOrphanSelfAlerts(ctx)
	}
}

// resolveOrphanSelfAlerts resolves the self-alerts about channels no longer
// configured: nothing reports on those, so nothing else would resolve them
// before their end time (24 h). It reads every open alert, so it runs only
// with a forced reconcile (a new term, the periodic refresh).
func (e *Engine) resolveOrphanSelfAlerts(ctx context.Context) {
	var gone []lifecycle.Pushed
	for _, a := range e.manager.Open() {
		if a.Source != "api" || a.Labels["alertname"] != SelfAlertName || a.Labels["source"] != "klaxon" {
			continue
		}
		if _, ok := e.channels[a.Labels["channel"]]; !ok {
			gone = append(gone, lifecycle.Pushed{Labels: a.Labels, Resolved: true})
		}
	}
	if len(gone) == 0 {
		return
	}
	if _, err := e.manager.Push(ctx, gone); err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrNotLeader) {
		e.log.Error("resolve self-alerts of channels no longer configured", "err", err)
	}
}

// failures lists the replicas on which channel name fails: this one from
// its live view, the others from their fresh reports. Must hold mu.
func (ch *channelHealth) failures(name string, view []notify.ChannelHealth, self string) []failure {
	var out []failure
	for _, h := range view {
		if h.Name == name && !h.Healthy {
			out = append(out, failure{replica: self, circuit: h.Circuit, lastError: h.LastError, typ: h.Type})
		}
	}
	since := time.Since(ch.readAt)
	for _, r := range ch.others {
		if r.Channel == name && !r.Healthy && r.Age+since < ch.stale {
			out = append(out, failure{replica: r.Replica, circuit: r.Circuit, lastError: r.LastError, typ: r.Type})
		}
	}
	return out
}

// failuresKey says on which replicas a channel fails, for telling whether
// its self-alert must change. A circuit that cycles open and half-open
// while the channel keeps failing changes nothing here.
func failuresKey(fails []failure) string {
	parts := make([]string, len(fails))
	for i, f := range fails {
		parts[i] = f.replica
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
