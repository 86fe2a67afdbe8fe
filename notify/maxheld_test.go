package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// pendingOf returns how many records the dispatcher holds for channel.
func pendingOf(d *notify.Dispatcher, channel string) int {
	for _, h := range d.Health() {
		if h.Name == channel {
			return h.Pending
		}
	}
	return -1
}

// backlog writes n due, unleased records for channel: what a receiver's
// outage or a crash leaves in the store.
func backlog(t *testing.T, st store.Store, channel string, n int) {
	t.Helper()
	now := time.Now()
	changes := make([]store.Change, 0, n)
	for i := range n {
		id := fmt.Sprintf("%s-%d", channel, i)
		a := &alert.Alert{ID: id, Fingerprint: alert.NewFingerprint("r", alert.Labels{"id": id}), RuleID: "r",
			State: alert.StateActive, Severity: alert.High, Labels: alert.Labels{"id": id}, StartedAt: now, UpdatedAt: now, Sequence: 1}
		payload, err := json.Marshal(notify.AlertEvent{Alert: a})
		require.NoError(t, err)
		changes = append(changes, store.Change{Alert: a,
			Transition: &alert.Transition{AlertID: id, Fingerprint: a.Fingerprint, Sequence: 1, To: a.State, At: now},
			Notifications: []*store.NotificationInsert{{
				IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, 1, channel), AlertID: id, Fingerprint: a.Fingerprint,
				Sequence: 1, Channel: channel, Event: string(notify.EventActive), Priority: 50, Payload: payload,
				CreatedAt: now, NextAttemptAt: now,
			}},
		})
	}
	_, err := st.Apply(context.Background(), &store.ApplyParams{Changes: changes})
	require.NoError(t, err)
}

func queuedUnleased(t *testing.T, st store.Store) int {
	t.Helper()
	queued, err := st.NotificationList(context.Background(), &store.NotificationListParams{
		States: []store.NotificationState{store.NotificationQueued}, Limit: 100000})
	require.NoError(t, err)
	k := 0
	for _, q := range queued {
		if q.LockedUntil.IsZero() {
			k++
		}
	}
	return k
}

// A backlog in the store is brought into memory only up to MaxHeld per
// channel (overshooting by at most one claim of 256); the rest stays in the
// store, unleased, while the channel is stuck, and is all sent once it
// moves. Another channel's backlog is claimed meanwhile.
func TestDispatcher_MaxHeldLeavesTheBacklogInTheStore(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	stuck := newRecorder(func(n *notify.Notification, call int) error {
		<-gate
		return nil
	})
	other := newRecorder(nil)
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, MaxHeld: 100},
		notify.ChannelConfig{Name: "ops", Channel: stuck, Retry: fastRetry(), Concurrency: 1},
		notify.ChannelConfig{Name: "mail", Channel: other, Retry: fastRetry()})
	var opened sync.Once
	open := func() { opened.Do(func() { close(gate) }) }
	t.Cleanup(open) // before the dispatcher stops, even when the test fails
	const n = 600
	backlog(t, b.st, "ops", n)
	require.Eventually(t, func() bool { return pendingOf(b.disp, "ops") > 0 }, 10*time.Second, 10*time.Millisecond)
	// The sweep runs every 50 ms: give it several chances to claim more.
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 256, pendingOf(b.disp, "ops"), "one claim's batch, then nothing while over the limit")
	require.Equal(t, n-256, queuedUnleased(t, b.st), "the rest stays in the store, unleased")

	backlog(t, b.st, "mail", 5)
	require.Len(t, other.wait(t, 5), 5, "a stuck channel does not keep another's records in the store")

	open()
	got := stuck.wait(t, n)
	seen := map[string]bool{}
	for _, x := range got {
		id := x.Alert().ID
		require.False(t, seen[id], "alert %s sent twice", id)
		seen[id] = true
	}
	require.Eventually(t, func() bool {
		queued, err := b.st.NotificationList(context.Background(), &store.NotificationListParams{
			States: []store.NotificationState{store.NotificationQueued}})
		require.NoError(t, err)
		return len(queued) == 0
	}, 30*time.Second, 20*time.Millisecond, "every record sent and written")
}
