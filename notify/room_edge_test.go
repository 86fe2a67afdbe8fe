package notify_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

// A backlog left by an outage (a restart, or another replica's records):
// each alert's firing is a retry scheduled an hour out, its resolution is
// due now. The resolutions are claimed and wait behind their firings in
// memory (order.go); they keep their room, so the sweep does not bring in
// more than the bound.
func TestDispatcher_WaitingBehindKeepsTheBound(t *testing.T) {
	t.Parallel()
	rec := newRecorder(nil)
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, MaxHeld: 2},
		notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 1})
	const n = 40
	changes := make([]store.Change, 0, 2*n)
	for i := range n {
		id := fmt.Sprintf("o%d", i)
		act := change(t, id, 1, alert.Info, notify.EventActive, nil, false, "ops")
		for _, ni := range act.Notifications {
			ni.Attempt = 1
			ni.NextAttemptAt = time.Now().Add(time.Hour) // a retry after a failed attempt
		}
		changes = append(changes, act, change(t, id, 2, alert.Info, notify.EventResolved, nil, false, "ops"))
	}
	_, err := b.st.Apply(context.Background(), &store.ApplyParams{Changes: changes})
	require.NoError(t, err)

	// The documented bound is MaxHeld, up to twice that for more urgent
	// records (all are equally urgent here).
	deadline := time.Now().Add(5 * time.Second)
	most := 0
	for time.Now().Before(deadline) {
		most = max(most, pending(b, "ops"))
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, most, 2*2, "records held in memory for channel ops")
}

// Stress: a small fill, sends that fail now and then (retries reclaimed by
// the sweep), alerts that fire and resolve, fresh and stored. Every
// notification is eventually sent, never two sends of one record at once,
// and for each alert never the resolution before the firing.
func TestDispatcher_StressSmallFill(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	inFlight := map[string]bool{}
	sentOK := map[string]int{}
	order := map[string][]notify.Event{}
	var dup atomic.Int64
	rec := newRecorder(func(n *notify.Notification, call int) error {
		mu.Lock()
		if inFlight[n.IdempotencyKey] {
			dup.Add(1)
		}
		inFlight[n.IdempotencyKey] = true
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		delete(inFlight, n.IdempotencyKey)
		if call%3 == 0 {
			return errors.New("connection reset")
		}
		sentOK[n.IdempotencyKey]++
		for _, a := range n.Alerts {
			order[a.Alert.ID] = append(order[a.Alert.ID], n.Event)
		}
		return nil
	})
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, MaxHeld: 3, LeaseFor: 3 * time.Second},
		notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 4, Retry: fastRetry()})
	const n = 60
	b.backlog(t, "s", n, alert.High, "ops")
	for i := range n {
		id := fmt.Sprintf("s%d", i)
		if i%2 == 0 {
			b.enqueue(t, id, 2, alert.High, notify.EventResolved, nil, "ops")
		} else {
			b.enqueueUnleased(t, id, 2, alert.High, notify.EventResolved, nil, "ops")
		}
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(sentOK) == 2*n
	}, 60*time.Second, 50*time.Millisecond)
	require.Zero(t, dup.Load(), "one record sent twice at once")
	mu.Lock()
	defer mu.Unlock()
	for k, c := range sentOK {
		require.Equal(t, 1, c, "%s sent ok more than once", k)
	}
	for id, evs := range order {
		require.Equal(t, []notify.Event{notify.EventActive, notify.EventResolved}, evs, id)
	}
}

// claimHook wraps a store to act around the sweep's claims.
type claimHook struct {
	store.Store
	after func(p *store.NotificationClaimParams, got []*store.Notification)
}

func (h *claimHook) NotificationClaim(ctx context.Context, p *store.NotificationClaimParams) ([]*store.Notification, error) {
	got, err := h.Store.NotificationClaim(ctx, p)
	if err == nil && h.after != nil {
		h.after(p, got)
	}
	return got, err
}

// blockingChannel sends nothing until its context ends.
type blockingChannel struct{}

func (blockingChannel) Send(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
	<-ctx.Done()
	return notify.Receipt{}, ctx.Err()
}

// A record the sweep claimed and refused (the room went to a fresh record
// meanwhile) has its lease ended even when Run's context ends after the
// sweep's last claim: a release that fails on the ended context is left for
// releaseHeld at shutdown, which has a context of its own.
func TestDispatcher_RefusedLeaseEndsAtShutdown(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var d *notify.Dispatcher
	var injected, opsFull atomic.Bool
	hook := &claimHook{Store: st}
	hook.after = func(p *store.NotificationClaimParams, got []*store.Notification) {
		switch {
		case p.Channel == "ops":
			opsFull.Store(len(got) == p.Limit)
			if len(got) > 0 && injected.CompareAndSwap(false, true) {
				// A transition's fresh record takes the room while the
				// claim is on its way back: the claimed one is refused.
				recs, err := st.Apply(context.Background(), &store.ApplyParams{Changes: []store.Change{
					change(t, "fresh", 1, alert.High, notify.EventActive, nil, true, "ops")}})
				require.NoError(t, err)
				d.Enqueue(recs)
			}
		case len(p.ExceptChannels) > 0 && injected.Load() && !opsFull.Load():
			// The sweep's last claim (its round wants no more) has
			// returned; shutdown begins now.
			cancel()
		}
	}
	d, err = notify.NewDispatcher(notify.DispatcherOptions{Store: hook, Owner: "me", MaxHeld: 1,
		SweepInterval: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond, BreakerFailures: 1000,
		Channels: []notify.ChannelConfig{{Name: "ops", Channel: blockingChannel{}, Concurrency: 1}}})
	require.NoError(t, err)
	b := &bundle{st: st, disp: d}
	b.backlog(t, "b", 3, alert.High, "ops")

	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
	require.True(t, injected.Load())

	left, err := st.NotificationList(context.Background(), &store.NotificationListParams{Channel: "ops"})
	require.NoError(t, err)
	var leased []string
	for _, r := range left {
		if r.State == store.NotificationQueued && r.LockedUntil.After(time.Now()) {
			leased = append(leased, r.AlertID)
		}
	}
	require.Empty(t, leased, "records still leased to a dispatcher that has stopped")
}

// Alerts of a grouped route flap: each firing waits for the group's next
// send (group_interval, 5 minutes by default), and each resolution, fresh,
// waits behind its firing in memory. They count toward the fill, past twice
// of it here; a critical record from the store (a retry falling due,
// another replica's released record) still comes in and goes out at once,
// not after the group's send.
func TestDispatcher_UrgentPassesWaitingRecords(t *testing.T) {
	t.Parallel()
	rec := newRecorder(nil)
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, MaxHeld: 2},
		notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 1, Retry: fastRetry()})
	var changes []store.Change
	for i := range 5 {
		c := change(t, fmt.Sprintf("g%d", i), 1, alert.Info, notify.EventActive, nil, false, "ops")
		for _, ni := range c.Notifications {
			ni.GroupKey = "route0:db"
			ni.NextAttemptAt = time.Now().Add(5 * time.Minute) // the group's next send
		}
		changes = append(changes, c)
	}
	_, err := b.st.Apply(context.Background(), &store.ApplyParams{Changes: changes})
	require.NoError(t, err)
	for i := range 5 {
		b.enqueue(t, fmt.Sprintf("g%d", i), 2, alert.Info, notify.EventResolved, nil, "ops")
	}
	require.Eventually(t, func() bool {
		return len(heldEntries(t, b.st, "g4")) == 1 && pending(b, "ops") == 5
	}, 10*time.Second, 10*time.Millisecond, "the resolutions wait behind their firings")

	b.enqueueUnleased(t, "page", 1, alert.Critical, notify.EventActive, nil, "ops")
	select {
	case n := <-rec.sent:
		require.Equal(t, "page", n.Alert().ID)
	case <-time.After(15 * time.Second):
		t.Fatalf("the critical record waited in the store behind %d held records waiting for a group send 5 minutes out", pending(b, "ops"))
	}
}
