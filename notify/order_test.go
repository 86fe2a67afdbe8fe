package notify_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// eventLog records the events a channel was called with, failed or not.
type eventLog struct {
	mu     sync.Mutex
	events []notify.Event
}

func (l *eventLog) add(e notify.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) get() []notify.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]notify.Event(nil), l.events...)
}

func heldEntries(t *testing.T, st store.Store, alertID string) []*store.Delivery {
	t.Helper()
	log, err := st.DeliveryList(context.Background(), &store.DeliveryListParams{AlertID: alertID})
	require.NoError(t, err)
	var held []*store.Delivery
	for _, e := range log {
		if e.Outcome == store.OutcomeHeld {
			held = append(held, e)
		}
	}
	return held
}

// The firing notification fails once and is retried later; the alert
// resolves meanwhile. The resolution waits for the retry instead of
// overtaking it, and the log says why it waited.
func TestDispatcher_ResolutionWaitsForAScheduledRetry(t *testing.T) {
	t.Parallel()
	var calls eventLog
	rec := newRecorder(func(n *notify.Notification, call int) error {
		calls.add(n.Event)
		if call == 1 {
			return &notify.StatusError{Code: 500}
		}
		return nil
	})
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: rec,
		Retry: notify.RetryPolicy{InitialBackoff: 400 * time.Millisecond, Timeout: time.Second, Jitter: -1}})
	b.enqueue(t, "a1", 1, alert.High, notify.EventActive, nil, "ops")
	require.Eventually(t, func() bool { return rec.calls.Load() == 1 }, 10*time.Second, time.Millisecond)
	b.enqueue(t, "a1", 2, alert.High, notify.EventResolved, nil, "ops")

	got := rec.wait(t, 2)
	require.Equal(t, notify.EventActive, got[0].Event)
	require.Equal(t, notify.EventResolved, got[1].Event)
	require.Equal(t, []notify.Event{notify.EventActive, notify.EventActive, notify.EventResolved}, calls.get())
	require.Equal(t, "thread-a1", got[1].Thread, "the resolution threads to the firing message")

	held := heldEntries(t, b.st, "a1")
	require.Len(t, held, 1, "logged once however often it looked")
	require.Equal(t, string(notify.EventResolved), held[0].Event)
	require.Equal(t, "earlier_notification_queued", held[0].Reason)
	require.Contains(t, held[0].Detail, string(notify.EventActive))
}

// A grouped firing notification waits for its group_wait; the alert
// resolves before it leaves. The receiver still hears firing, then
// resolved.
func TestDispatcher_ResolutionWaitsForAGroupWait(t *testing.T) {
	t.Parallel()
	rec := newRecorder(nil)
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: rec})
	now := time.Now()
	a := &alert.Alert{ID: "g1", Fingerprint: alert.NewFingerprint("r", alert.Labels{"id": "g1"}), RuleID: "r",
		State: alert.StateActive, Severity: alert.High, Labels: alert.Labels{"id": "g1"}, StartedAt: now, UpdatedAt: now, Sequence: 1}
	payload, err := json.Marshal(notify.AlertEvent{Alert: a})
	require.NoError(t, err)
	// As the lifecycle writes a grouped notification: due when the group's
	// wait ends, not leased, left to the sweep.
	recs, err := b.st.Apply(context.Background(), &store.ApplyParams{Changes: []store.Change{{Alert: a,
		Transition: &alert.Transition{AlertID: "g1", Fingerprint: a.Fingerprint, Sequence: 1, To: a.State, At: now},
		Notifications: []*store.NotificationInsert{{
			IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, 1, "ops"), AlertID: "g1", Fingerprint: a.Fingerprint,
			Sequence: 1, Channel: "ops", Event: string(notify.EventActive), Priority: 40, Payload: payload,
			GroupKey: "team=db", CreatedAt: now, NextAttemptAt: now.Add(400 * time.Millisecond),
		}},
	}}})
	require.NoError(t, err)
	b.disp.Enqueue(recs)
	b.enqueue(t, "g1", 2, alert.High, notify.EventResolved, nil, "ops")

	got := rec.wait(t, 2)
	require.Equal(t, notify.EventActive, got[0].Event)
	require.Equal(t, notify.EventResolved, got[1].Event)
	require.Len(t, heldEntries(t, b.st, "g1"), 1)
}

// enqueueGroup writes one notification per alert id, all in one group (keyed by the first id) on
// channel, with the given failover chains, and hands them over together.
func (b *bundle) enqueueGroup(t *testing.T, channel string, ids []string, chains [][]string, unreadable ...string) {
	t.Helper()
	now := time.Now()
	var changes []store.Change
	for i, id := range ids {
		a := &alert.Alert{ID: id, Fingerprint: alert.NewFingerprint("r", alert.Labels{"id": id}), RuleID: "r",
			State: alert.StateActive, Severity: alert.High, Labels: alert.Labels{"id": id}, StartedAt: now, UpdatedAt: now, Sequence: 1}
		payload, err := json.Marshal(notify.AlertEvent{Alert: a})
		require.NoError(t, err)
		if slices.Contains(unreadable, id) {
			payload = payload[:len(payload)/2]
		}
		changes = append(changes, store.Change{Alert: a,
			Transition: &alert.Transition{AlertID: id, Fingerprint: a.Fingerprint, Sequence: 1, To: a.State, At: now},
			Notifications: []*store.NotificationInsert{{
				IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, 1, channel), AlertID: id, Fingerprint: a.Fingerprint,
				Sequence: 1, Channel: channel, Event: string(notify.EventActive), Priority: 40, Payload: payload,
				GroupKey: "g-" + ids[0], Failover: chains[i], CreatedAt: now, NextAttemptAt: now,
				LockedUntil: now.Add(time.Minute), LockedBy: "me",
			}},
		})
	}
	recs, err := b.st.Apply(context.Background(), &store.ApplyParams{Changes: changes})
	require.NoError(t, err)
	b.disp.Enqueue(recs)
}

// A grouped notification fails permanently: each member fails over along
// its own chain, and a member without one fails without a failover in its
// log, whatever the group's lead had.
func TestDispatcher_GroupMembersFailOverAlongTheirOwnChains(t *testing.T) {
	t.Parallel()
	bad := newRecorder(func(*notify.Notification, int) error {
		return notify.Permanent(&notify.StatusError{Code: 400})
	})
	backup := newRecorder(nil)
	b := setup(t,
		notify.ChannelConfig{Name: "a", Channel: bad, Concurrency: 1},
		notify.ChannelConfig{Name: "b", Channel: backup},
	)
	b.enqueueGroup(t, "a", []string{"m1", "m2", "m3"}, [][]string{nil, {"b"}, nil})
	b.enqueueGroup(t, "a", []string{"n1", "n2"}, [][]string{{"b"}, nil})

	var got []string
	require.Eventually(t, func() bool {
		for {
			select {
			case n := <-backup.sent:
				for _, ae := range n.Alerts {
					got = append(got, ae.Alert.ID)
				}
			default:
				return len(got) >= 2
			}
		}
	}, 10*time.Second, 5*time.Millisecond)
	require.ElementsMatch(t, []string{"m2", "n1"}, got, "members with a chain, lead or not")
	require.EqualValues(t, 2, bad.calls.Load(), "one call per group")

	outcome := func(id string) store.Outcome {
		log, err := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{AlertID: id, Channel: "a"})
		require.NoError(t, err)
		require.NotEmpty(t, log, id)
		return log[0].Outcome
	}
	for id, want := range map[string]store.Outcome{
		"m1": store.OutcomeFailed, "m2": store.OutcomeFailedOver, "m3": store.OutcomeFailed,
		"n1": store.OutcomeFailedOver, "n2": store.OutcomeFailed,
	} {
		require.Equal(t, want, outcome(id), id)
	}
	ns, err := b.st.NotificationList(context.Background(), &store.NotificationListParams{AlertID: "n2", Channel: "a"})
	require.NoError(t, err)
	require.Equal(t, store.NotificationFailed, ns[0].State)
	require.Empty(t, ns[0].FailedOverTo)
}

// One member's payload cannot be read: it fails by itself, and the rest of
// its group is sent.
func TestDispatcher_UnreadablePayloadFailsOnlyItsRecord(t *testing.T) {
	t.Parallel()
	rec := newRecorder(nil)
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 1})
	b.enqueueGroup(t, "ops", []string{"u1", "u2", "u3"}, [][]string{nil, nil, nil}, "u1")
	n := rec.wait(t, 1)[0]
	var ids []string
	for _, ae := range n.Alerts {
		ids = append(ids, ae.Alert.ID)
	}
	require.Equal(t, []string{"u2", "u3"}, ids)
	require.Eventually(t, func() bool {
		ns, err := b.st.NotificationList(context.Background(), &store.NotificationListParams{AlertID: "u1"})
		require.NoError(t, err)
		return ns[0].State == store.NotificationFailed && strings.Contains(ns[0].LastError, "decode notification")
	}, 10*time.Second, 5*time.Millisecond)
}

// enqueueSeqs writes notifications of one alert, one per sequence, all of
// event ev in group "g" on channel, and hands them over together (as a
// sweep after an outage would).
func (b *bundle) enqueueSeqs(t *testing.T, channel, id string, ev notify.Event, seqs ...int64) {
	t.Helper()
	now := time.Now()
	var changes []store.Change
	for _, seq := range seqs {
		a := &alert.Alert{ID: id, Fingerprint: alert.NewFingerprint("r", alert.Labels{"id": id}), RuleID: "r",
			State: alert.StateActive, Severity: alert.High, Labels: alert.Labels{"id": id}, StartedAt: now, UpdatedAt: now, Sequence: seq}
		payload, err := json.Marshal(notify.AlertEvent{Alert: a})
		require.NoError(t, err)
		changes = append(changes, store.Change{Alert: a,
			Transition: &alert.Transition{AlertID: id, Fingerprint: a.Fingerprint, Sequence: seq, To: a.State, At: now},
			Notifications: []*store.NotificationInsert{{
				IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, seq, channel), AlertID: id, Fingerprint: a.Fingerprint,
				Sequence: seq, Channel: channel, Event: string(ev), Priority: 40, Payload: payload,
				GroupKey: "g", CreatedAt: now, NextAttemptAt: now, LockedUntil: now.Add(time.Minute), LockedBy: "me",
			}},
		})
	}
	recs, err := b.st.Apply(context.Background(), &store.ApplyParams{Changes: changes})
	require.NoError(t, err)
	b.disp.Enqueue(recs)
}

// Two renotifications of one alert queued together (an outage) never ride
// in one grouped notification, where the later would wait for the earlier
// forever: they go out one after the other, then the resolution.
func TestDispatcher_OneAlertTwiceInAGroupGoesOutInTurn(t *testing.T) {
	t.Parallel()
	rec := newRecorder(nil)
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 2})
	b.enqueueSeqs(t, "ops", "r1", notify.EventRenotify, 2, 3)
	b.enqueueSeqs(t, "ops", "r1", notify.EventResolved, 4)
	got := rec.wait(t, 3)
	var seqs []int64
	for _, n := range got {
		require.Len(t, n.Alerts, 1)
		seqs = append(seqs, n.Alerts[0].Alert.Sequence)
	}
	require.Equal(t, []int64{2, 3, 4}, seqs)
}
