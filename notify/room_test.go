package notify_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

// gate makes a channel's sends wait until the test lets them through.
type gate struct {
	open chan struct{}
	// passes counts sends let through one at a time by step.
	passes chan struct{}
}

// newGate returns a closed gate; the test defers its release, which runs
// before the cleanups that wait for the dispatcher to stop.
func newGate() *gate {
	return &gate{open: make(chan struct{}), passes: make(chan struct{}, 1000)}
}

func (g *gate) wait(ctx context.Context) error {
	select {
	case <-g.open:
	case <-g.passes:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (g *gate) step() { g.passes <- struct{}{} }

func (g *gate) release() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// gatedRecorder records what a gated channel sends.
func gatedRecorder(g *gate) *recorder {
	return newRecorder(func(n *notify.Notification, _ int) error {
		return g.wait(context.Background())
	})
}

func pending(b *bundle, channel string) int {
	for _, h := range b.disp.Health() {
		if h.Name == channel {
			return h.Pending
		}
	}
	return -1
}

// A channel that cannot keep up brings at most MaxHeld records of a backlog
// into memory; the rest wait in the store, and every one is delivered once
// it catches up, each once. Fresh records still come in.
func TestDispatcher_HoldsAtMostMaxHeld(t *testing.T) {
	t.Parallel()
	g := newGate()
	defer g.release()
	rec := gatedRecorder(g)
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, MaxHeld: 10},
		notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 2})
	const n = 60
	b.backlog(t, "h", n, alert.High, "ops")
	// A record of a channel no longer configured is still claimed (and
	// fails) while ops is full.
	b.enqueueUnleased(t, "gone", 1, alert.High, notify.EventActive, nil, "nowhere")

	// Several sweeps (every 50 ms) come and go; none takes ops past its fill.
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		require.LessOrEqual(t, pending(b, "ops"), 10)
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, 10, pending(b, "ops"))
	require.Eventually(t, func() bool {
		gone, err := b.st.NotificationList(context.Background(), &store.NotificationListParams{AlertID: "gone"})
		return err == nil && len(gone) == 1 && gone[0].State == store.NotificationFailed
	}, 10*time.Second, 10*time.Millisecond, "the unknown channel's record fails while ops is full")
	// The rest wait in the store, unleased: another replica could take them.
	stats, err := b.st.NotificationStats(context.Background(), time.Now())
	require.NoError(t, err)
	require.Equal(t, n, stats.Queued)
	left, err := b.st.NotificationList(context.Background(), &store.NotificationListParams{Channel: "ops"})
	require.NoError(t, err)
	leased := 0
	for _, r := range left {
		if r.LockedUntil.After(time.Now()) {
			leased++
		}
	}
	require.Equal(t, 10, leased, "only the records held are leased")
	require.Eventually(t, func() bool {
		for _, h := range b.disp.Health() {
			if h.Name == "ops" {
				return h.Queued == n
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the channel shows what waits in the store too")

	// A transition's fresh record shares the alert the lifecycle holds
	// anyway: it comes in past the fill, and is not sent twice.
	b.enqueue(t, "fresh", 1, alert.High, notify.EventActive, nil, "ops")
	require.Equal(t, 11, pending(b, "ops"))

	g.release()
	got := rec.wait(t, n+1)
	seen := map[string]bool{}
	for _, x := range got {
		require.False(t, seen[x.Alert().ID], "%s sent twice", x.Alert().ID)
		seen[x.Alert().ID] = true
	}
	require.Len(t, seen, n+1)
	require.Eventually(t, func() bool { return pending(b, "ops") == 0 }, 10*time.Second, 10*time.Millisecond)
}

// A critical record never waits behind a held backlog of lesser ones,
// whether it comes fresh from a transition or from the store.
func TestDispatcher_UrgentPassesHeldBacklog(t *testing.T) {
	t.Parallel()
	g := newGate()
	defer g.release()
	rec := gatedRecorder(g)
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, MaxHeld: 5},
		notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 1})
	b.backlog(t, "i", 30, alert.Info, "ops")
	require.Eventually(t, func() bool { return rec.calls.Load() == 1 }, 10*time.Second, time.Millisecond,
		"one send in flight")
	require.Eventually(t, func() bool { return pending(b, "ops") == 5 }, 10*time.Second, time.Millisecond)

	// Fresh, handed over by Enqueue.
	b.enqueue(t, "fresh", 1, alert.Critical, notify.EventActive, nil, "ops")
	// From the store: written unleased, as a retry falling due or another
	// replica's released record would be.
	b.enqueueUnleased(t, "stored", 1, alert.Critical, notify.EventActive, nil, "ops")
	require.Eventually(t, func() bool { return pending(b, "ops") == 7 }, 10*time.Second, time.Millisecond,
		"both critical records come in past the fill")

	for range 3 {
		g.step()
	}
	got := rec.wait(t, 3)
	require.Equal(t, "i0", got[0].Alert().ID, "the send already in flight (the backlog goes in id order)")
	require.ElementsMatch(t, []string{"fresh", "stored"}, []string{got[1].Alert().ID, got[2].Alert().ID},
		"the critical ones go next")
	g.release()
	rec.wait(t, 29)
}

// While a full channel's circuit is open, records with a failover chain
// still move on at once, from memory and from the store.
func TestDispatcher_FullOpenChannelStillFailsOver(t *testing.T) {
	t.Parallel()
	down := newRecorder(func(*notify.Notification, int) error { return errors.New("connection refused") })
	backup := newRecorder(nil)
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 3, BreakerTimeout: time.Hour, MaxHeld: 5},
		notify.ChannelConfig{Name: "a", Channel: down, Retry: fastRetry(), Concurrency: 1},
		notify.ChannelConfig{Name: "b", Channel: backup},
	)
	b.backlog(t, "w", 20, alert.Critical, "a")
	require.Eventually(t, func() bool {
		return b.disp.Health()[0].Circuit == "open" && pending(b, "a") == 5
	}, 10*time.Second, 5*time.Millisecond, "a's circuit opens and a holds its fill")

	// Less urgent than everything held, so only the failover chain lets
	// the stored ones in; the fresh one comes in anyway.
	for i := range 4 {
		b.enqueueUnleased(t, fmt.Sprintf("f%d", i), 1, alert.Info, notify.EventActive, []string{"b"}, "a")
	}
	b.enqueue(t, "fresh", 1, alert.Info, notify.EventActive, []string{"b"}, "a")
	got := backup.wait(t, 5)
	ids := make([]string, len(got))
	for i, x := range got {
		ids[i] = x.Alert().ID
	}
	require.ElementsMatch(t, []string{"f0", "f1", "f2", "f3", "fresh"}, ids)
	// Held for a moment, they were the least urgent held, so records more
	// urgent than them could come in too: never past twice the fill.
	require.LessOrEqual(t, pending(b, "a"), 10)
}

// A large backlog drains through the bound at full speed, none lost or
// sent twice.
func TestDispatcher_BacklogDrainsWithinMaxHeld(t *testing.T) {
	t.Parallel()
	var inFlight, most atomic.Int64
	rec := newRecorder(func(*notify.Notification, int) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, MaxHeld: 50},
		notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 4})
	var maxPending atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if p := int64(pending(b, "ops")); p > maxPending.Load() {
				maxPending.Store(p)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	const n = 400
	b.backlog(t, "burst", n, alert.High, "ops")
	got := rec.wait(t, n)
	close(stop)
	<-watched
	seen := map[string]bool{}
	for _, x := range got {
		seen[x.Alert().ID] = true
	}
	require.Len(t, seen, n, "every alert delivered once")
	require.LessOrEqual(t, maxPending.Load(), int64(50))
}

// setupLeaky is setupWith, except that its cleanup gives up waiting for Run
// after a while instead of hanging the whole test binary.
func setupLeaky(t *testing.T, o notify.DispatcherOptions, chans ...notify.ChannelConfig) *bundle {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	o.Store, o.Channels, o.Owner, o.SweepInterval = st, chans, "me", 50*time.Millisecond
	d, err := notify.NewDispatcher(o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
			st.Close()
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return &bundle{st: st, disp: d}
}

// healthWithin calls Health, failing the test if it does not return within
// 10 s (the worker's mutex is never unlocked).
func healthWithin(t *testing.T, d *notify.Dispatcher) {
	t.Helper()
	ok := make(chan struct{})
	go func() { d.Health(); close(ok) }()
	select {
	case <-ok:
	case <-time.After(10 * time.Second):
		t.Fatal("Health blocked: the worker's mutex is held for good")
	}
}

// A full channel's circuit moving to half-open does not stop the
// dispatcher: the breaker's state is read, and may change (calling
// setCircuit, which locks the worker), only outside the worker's lock. The
// failure opens the circuit (BreakerFailures 1) for 30 ms, and with MaxHeld
// 1 every sweep asks for the circuit's state.
func TestDispatcher_CircuitHalfOpenWhileFull(t *testing.T) {
	t.Parallel()
	rec := newRecorder(func(_ *notify.Notification, call int) error {
		if call == 1 {
			return errors.New("connection refused")
		}
		return nil
	})
	b := setupLeaky(t, notify.DispatcherOptions{BreakerFailures: 1, BreakerTimeout: 30 * time.Millisecond, MaxHeld: 1},
		notify.ChannelConfig{Name: "a", Channel: rec, Concurrency: 1,
			Retry: notify.RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Timeout: time.Second, MaxAge: time.Hour}})
	b.enqueue(t, "x", 1, alert.High, notify.EventActive, nil, "a")

	deadline := time.After(15 * time.Second)
	for rec.calls.Load() < 2 {
		select {
		case <-deadline:
			healthWithin(t, b.disp)
			t.Fatalf("the retry was never sent (calls = %d)", rec.calls.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
	healthWithin(t, b.disp)
}

// The earlier notification that held records wait for (order.go) comes in
// past the fill, even when it is no more urgent than the least urgent held:
// an acknowledgement and the resolution after it share a priority.
// Otherwise nothing would leave memory and the channel would deliver
// nothing more.
func TestDispatcher_AwaitedRecordComesInPastTheFill(t *testing.T) {
	t.Parallel()
	g := newGate()
	defer g.release()
	rec := gatedRecorder(g)
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, MaxHeld: 2},
		notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 1})
	b.backlog(t, "fill", 2, alert.Info, "ops")
	require.Eventually(t, func() bool { return pending(b, "ops") == 2 }, 10*time.Second, time.Millisecond)

	// Acknowledged during the outage: queued in the store (as retries
	// falling due would be), no more urgent than what ops holds.
	for _, id := range []string{"x0", "x1", "x2"} {
		b.enqueueUnleased(t, id, 1, alert.Info, notify.EventAcknowledged, nil, "ops")
	}
	// Then resolved: fresh, so they come in past the fill.
	for _, id := range []string{"x0", "x1", "x2"} {
		b.enqueue(t, id, 2, alert.Info, notify.EventResolved, nil, "ops")
	}
	require.Equal(t, 5, pending(b, "ops"))

	g.release()
	got := rec.wait(t, 8) // 2 fill + 3 acknowledgements + 3 resolutions
	require.Len(t, got, 8)
}

// A fresh record of a channel no longer configured fails over at the next
// sweep, not when its lease (LeaseFor, an hour here) runs out.
func TestDispatcher_FreshRecordOfUnknownChannelFailsOver(t *testing.T) {
	t.Parallel()
	backup := newRecorder(nil)
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, LeaseFor: time.Hour},
		notify.ChannelConfig{Name: "b", Channel: backup})
	b.enqueue(t, "lost", 1, alert.High, notify.EventActive, []string{"b"}, "nowhere")
	require.Equal(t, "lost", backup.wait(t, 1)[0].Alert().ID)
}

// A channel's own max_held overrides the dispatcher's: each channel holds
// at most its own fill, and the rest of its backlog waits in the store.
func TestDispatcher_ChannelMaxHeldOverridesTheDefault(t *testing.T) {
	t.Parallel()
	g := newGate()
	defer g.release()
	small, big := gatedRecorder(g), gatedRecorder(g)
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000, MaxHeld: 20},
		notify.ChannelConfig{Name: "small", Channel: small, Concurrency: 2, MaxHeld: 4},
		notify.ChannelConfig{Name: "big", Channel: big, Concurrency: 2})
	const n = 30
	b.backlog(t, "s", n, alert.High, "small")
	b.backlog(t, "b", n, alert.High, "big")
	require.Eventually(t, func() bool { return pending(b, "small") == 4 && pending(b, "big") == 20 },
		10*time.Second, 5*time.Millisecond)
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		require.LessOrEqual(t, pending(b, "small"), 4)
		require.LessOrEqual(t, pending(b, "big"), 20)
		time.Sleep(5 * time.Millisecond)
	}
	g.release()
	require.Len(t, small.wait(t, n), n)
	require.Len(t, big.wait(t, n), n)
}
