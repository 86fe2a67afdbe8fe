package notify_test

import (
	"context"
	"encoding/json"
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

// recorder is a channel that records what it received and answers with
// the errors its script gives.
type recorder struct {
	mu    sync.Mutex
	got   []*notify.Notification
	at    []time.Time
	fail  func(n *notify.Notification, call int) error
	calls atomic.Int64
	sent  chan *notify.Notification
}

func newRecorder(fail func(n *notify.Notification, call int) error) *recorder {
	return &recorder{fail: fail, sent: make(chan *notify.Notification, 10000)}
}

func (r *recorder) Send(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
	call := int(r.calls.Add(1))
	r.mu.Lock()
	r.got = append(r.got, n)
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(n, call); err != nil {
			return notify.Receipt{}, err
		}
	}
	r.sent <- n
	return notify.Receipt{StatusCode: 200, Detail: "200 OK", Thread: "thread-" + n.Alert().ID}, nil
}

func (r *recorder) wait(t *testing.T, n int) []*notify.Notification {
	t.Helper()
	var out []*notify.Notification
	timeout := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case x := <-r.sent:
			out = append(out, x)
		case <-timeout:
			t.Fatalf("got %d of %d notifications", len(out), n)
		}
	}
	return out
}

type bundle struct {
	st   store.Store
	disp *notify.Dispatcher
}

func setup(t *testing.T, chans ...notify.ChannelConfig) *bundle {
	t.Helper()
	return setupWith(t, notify.DispatcherOptions{BreakerFailures: 1000}, chans...)
}

func setupWith(t *testing.T, o notify.DispatcherOptions, chans ...notify.ChannelConfig) *bundle {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	o.Store, o.Channels, o.Owner, o.SweepInterval = st, chans, "me", 50*time.Millisecond
	d, err := notify.NewDispatcher(o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &bundle{st: st, disp: d}
}

// enqueue writes one alert transition with notifications for channels, the
// way the lifecycle does, and hands them to the dispatcher.
func (b *bundle) enqueue(t *testing.T, id string, seq int64, sev alert.Severity, ev notify.Event, failover []string, channels ...string) {
	t.Helper()
	recs, err := b.st.Apply(context.Background(), &store.ApplyParams{Changes: []store.Change{
		change(t, id, seq, sev, ev, failover, true, channels...)}})
	require.NoError(t, err)
	b.disp.Enqueue(recs)
}

// enqueueUnleased writes the transition with its records unleased, and
// leaves them to the sweep.
func (b *bundle) enqueueUnleased(t *testing.T, id string, seq int64, sev alert.Severity, ev notify.Event, failover []string, channels ...string) {
	t.Helper()
	_, err := b.st.Apply(context.Background(), &store.ApplyParams{Changes: []store.Change{
		change(t, id, seq, sev, ev, failover, false, channels...)}})
	require.NoError(t, err)
}

// backlog writes n alerts' first notifications, unleased, in one
// transaction, and leaves them to the sweep: what a receiver down for a
// while leaves queued.
func (b *bundle) backlog(t *testing.T, prefix string, n int, sev alert.Severity, channel string) {
	t.Helper()
	changes := make([]store.Change, n)
	for i := range changes {
		changes[i] = change(t, fmt.Sprintf("%s%d", prefix, i), 1, sev, notify.EventActive, nil, false, channel)
	}
	_, err := b.st.Apply(context.Background(), &store.ApplyParams{Changes: changes})
	require.NoError(t, err)
}

// change is one alert transition with notifications for channels, leased
// to the dispatcher ("me") when leased is set.
func change(t *testing.T, id string, seq int64, sev alert.Severity, ev notify.Event, failover []string, leased bool, channels ...string) store.Change {
	t.Helper()
	now := time.Now()
	a := &alert.Alert{ID: id, Fingerprint: alert.NewFingerprint("r", alert.Labels{"id": id}), RuleID: "r",
		State: alert.StateActive, Severity: sev, Labels: alert.Labels{"id": id}, StartedAt: now, UpdatedAt: now, Sequence: seq}
	payload, err := json.Marshal(notify.AlertEvent{Alert: a})
	require.NoError(t, err)
	c := store.Change{Alert: a, Transition: &alert.Transition{AlertID: id, Fingerprint: a.Fingerprint, Sequence: seq, To: a.State, At: now}}
	for _, ch := range channels {
		ni := &store.NotificationInsert{
			IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, seq, ch), AlertID: id, Fingerprint: a.Fingerprint,
			Sequence: seq, Channel: ch, Event: string(ev), Priority: int(sev) * 10, Payload: payload,
			Failover: failover, CreatedAt: now, NextAttemptAt: now,
		}
		if leased {
			ni.LockedUntil, ni.LockedBy = now.Add(time.Minute), "me"
		}
		c.Notifications = append(c.Notifications, ni)
	}
	return c
}

func fastRetry() notify.RetryPolicy {
	return notify.RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Timeout: time.Second}
}

func TestDispatcher_DeliversAndLogs(t *testing.T) {
	t.Parallel()
	rec := newRecorder(nil)
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: rec})
	b.enqueue(t, "a1", 1, alert.Critical, notify.EventActive, nil, "ops")
	n := rec.wait(t, 1)[0]
	require.Equal(t, "ops", n.Channel)
	require.Equal(t, notify.EventActive, n.Event)
	require.Equal(t, 1, n.Attempt)
	require.Equal(t, "a1", n.Alert().ID)
	require.Equal(t, notify.IdempotencyKey(n.Alert().ID, n.Alert().Fingerprint, 1, "ops"), n.IdempotencyKey)

	require.Eventually(t, func() bool {
		log, _ := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{AlertID: "a1"})
		return len(log) == 1 && log[0].Outcome == store.OutcomeSent && log[0].StatusCode == 200
	}, 10*time.Second, 10*time.Millisecond)

	// The receipt's thread is handed to later notifications of the alert.
	b.enqueue(t, "a1", 2, alert.Critical, notify.EventResolved, nil, "ops")
	n2 := rec.wait(t, 1)[0]
	require.Equal(t, "thread-a1", n2.Thread)
}

func TestDispatcher_RetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	// Fails the first two attempts of every notification.
	attempts := sync.Map{}
	rec := newRecorder(func(n *notify.Notification, _ int) error {
		v, _ := attempts.LoadOrStore(n.IdempotencyKey, new(atomic.Int64))
		if v.(*atomic.Int64).Add(1) <= 2 {
			return &notify.StatusError{Code: 503}
		}
		return nil
	})
	// Two calls in three fail, so the circuit opens now and then; a short
	// open time keeps the test quick.
	b := setupWith(t, notify.DispatcherOptions{BreakerTimeout: 100 * time.Millisecond},
		notify.ChannelConfig{Name: "ops", Channel: rec, Retry: fastRetry()})
	for i := range 20 {
		b.enqueue(t, fmt.Sprintf("a%d", i), 1, alert.High, notify.EventActive, nil, "ops")
	}
	got := rec.wait(t, 20)
	keys := map[string]bool{}
	for _, n := range got {
		require.Equal(t, 3, n.Attempt)
		keys[n.IdempotencyKey] = true
	}
	require.Len(t, keys, 20)
	require.Eventually(t, func() bool {
		log, _ := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{AlertID: "a7"})
		return len(log) == 3
	}, 10*time.Second, 10*time.Millisecond)
	log, _ := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{AlertID: "a7"})
	outcomes := []store.Outcome{log[0].Outcome, log[1].Outcome, log[2].Outcome}
	require.ElementsMatch(t, []store.Outcome{store.OutcomeRetry, store.OutcomeRetry, store.OutcomeSent}, outcomes)
}

func TestDispatcher_RetryAfterHonoured(t *testing.T) {
	t.Parallel()
	var first time.Time
	rec := newRecorder(func(n *notify.Notification, call int) error {
		if call == 1 {
			first = time.Now()
			return notify.RetryAfter(time.Second, &notify.StatusError{Code: 429})
		}
		return nil
	})
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: rec, Retry: fastRetry()})
	b.enqueue(t, "a1", 1, alert.High, notify.EventActive, nil, "ops")
	rec.wait(t, 1)
	rec.mu.Lock()
	second := rec.at[1]
	rec.mu.Unlock()
	require.GreaterOrEqual(t, second.Sub(first), time.Second, "the retry came before Retry-After")
}

func TestDispatcher_PermanentFailsOver(t *testing.T) {
	t.Parallel()
	bad := newRecorder(func(*notify.Notification, int) error {
		return notify.Permanent(&notify.StatusError{Code: 400, Body: "bad request"})
	})
	good := newRecorder(nil)
	b := setup(t,
		notify.ChannelConfig{Name: "a", Channel: bad, Retry: fastRetry()},
		notify.ChannelConfig{Name: "b", Channel: good, Retry: fastRetry()},
	)
	b.enqueue(t, "x", 1, alert.Critical, notify.EventActive, []string{"b"}, "a")
	n := good.wait(t, 1)[0]
	require.Equal(t, "b", n.Channel)
	require.Equal(t, notify.IdempotencyKey(n.Alert().ID, n.Alert().Fingerprint, 1, "b"), n.IdempotencyKey)
	require.EqualValues(t, 1, bad.calls.Load(), "a permanent error is not retried")

	require.Eventually(t, func() bool {
		log, _ := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{AlertID: "x"})
		return len(log) == 2
	}, 10*time.Second, 10*time.Millisecond)
	log, _ := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{AlertID: "x"})
	byChan := map[string]*store.Delivery{log[0].Channel: log[0], log[1].Channel: log[1]}
	require.Equal(t, store.OutcomeFailedOver, byChan["a"].Outcome)
	require.Equal(t, 400, byChan["a"].StatusCode)
	require.Contains(t, byChan["a"].Detail, "failed over to b")
	require.Equal(t, store.OutcomeSent, byChan["b"].Outcome)
}

func TestDispatcher_BudgetExhaustedFailsOver(t *testing.T) {
	t.Parallel()
	bad := newRecorder(func(*notify.Notification, int) error { return errors.New("connection refused") })
	good := newRecorder(nil)
	retry := fastRetry()
	retry.MaxAttempts = 3
	b := setup(t,
		notify.ChannelConfig{Name: "a", Channel: bad, Retry: retry},
		notify.ChannelConfig{Name: "b", Channel: good},
	)
	b.enqueue(t, "x", 1, alert.Critical, notify.EventActive, []string{"b"}, "a")
	good.wait(t, 1)
	require.EqualValues(t, 3, bad.calls.Load())
	h := b.disp.Health()
	require.Equal(t, "a", h[0].Name)
	require.False(t, h[0].Healthy)
	require.Contains(t, h[0].LastError, "connection refused")
	require.EqualValues(t, 1, h[0].Failed, "one notification failed on a, counted once")
}

func TestDispatcher_PriorityAndSlowChannelIsolation(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	slow := newRecorder(func(*notify.Notification, int) error { <-block; return nil })
	fast := newRecorder(nil)
	b := setup(t,
		notify.ChannelConfig{Name: "slow", Channel: slow, Concurrency: 1},
		notify.ChannelConfig{Name: "fast", Channel: fast},
	)
	defer close(block)
	b.enqueue(t, "s", 1, alert.Info, notify.EventActive, nil, "slow")
	for i := range 5 {
		b.enqueue(t, fmt.Sprintf("f%d", i), 1, alert.Info, notify.EventActive, nil, "fast")
	}
	// The fast channel delivers while the slow one is stuck.
	fast.wait(t, 5)
}

func TestDispatcher_GroupsQueuedRecords(t *testing.T) {
	t.Parallel()
	t.Run("sent at once", func(t *testing.T) { testGroups(t, false) })
	t.Run("retried together", func(t *testing.T) { testGroups(t, true) })
}

func testGroups(t *testing.T, failFirst bool) {
	t.Parallel()
	rec := newRecorder(func(_ *notify.Notification, call int) error {
		if failFirst && call == 1 {
			return &notify.StatusError{Code: 503}
		}
		return nil
	})
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: rec, Retry: fastRetry()})
	now := time.Now()
	var changes []store.Change
	for i := range 3 {
		id := fmt.Sprintf("g%d", i)
		a := &alert.Alert{ID: id, Fingerprint: alert.NewFingerprint("r", alert.Labels{"id": id}), State: alert.StateActive,
			Severity: alert.High, Labels: alert.Labels{"id": id, "team": "db"}, StartedAt: now, UpdatedAt: now, Sequence: 1}
		payload, _ := json.Marshal(notify.AlertEvent{Alert: a})
		changes = append(changes, store.Change{Alert: a, Notifications: []*store.NotificationInsert{{
			IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, 1, "ops"), AlertID: id, Fingerprint: a.Fingerprint,
			Sequence: 1, Channel: "ops", Event: string(notify.EventActive), Priority: 45, Payload: payload,
			GroupKey: "route0:db", CreatedAt: now, NextAttemptAt: now.Add(200 * time.Millisecond),
		}}})
	}
	recs, err := b.st.Apply(context.Background(), &store.ApplyParams{Changes: changes})
	require.NoError(t, err)
	b.disp.Enqueue(recs)
	n := rec.wait(t, 1)[0]
	require.Len(t, n.Alerts, 3, "one notification lists every alert of the group, also when retried")
	require.Equal(t, "route0:db", n.GroupKey)
	time.Sleep(300 * time.Millisecond)
	want := int64(1)
	if failFirst {
		want = 2
		require.Equal(t, 2, n.Attempt)
	}
	require.Equal(t, want, rec.calls.Load())
	require.Eventually(t, func() bool {
		log, _ := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{Channel: "ops"})
		grouped := 0
		for _, l := range log {
			if l.Outcome == store.OutcomeGrouped {
				grouped++
			}
		}
		return grouped == 2
	}, 10*time.Second, 10*time.Millisecond)
}

func TestDispatcher_RateLimitQueuesNeverDrops(t *testing.T) {
	t.Parallel()
	rec := newRecorder(nil)
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: rec, RateLimit: 20, Burst: 1})
	for i := range 10 {
		b.enqueue(t, fmt.Sprintf("r%d", i), 1, alert.High, notify.EventActive, nil, "ops")
	}
	got := rec.wait(t, 10)
	require.Len(t, got, 10)
}

func TestRetryPolicy_NextAttempt(t *testing.T) {
	t.Parallel()
	p := notify.RetryPolicy{Jitter: -1}.WithDefaults()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string // what the row checks
		err     error
		attempt int
		created time.Time
		want    time.Duration
		ok      bool
	}{
		{"first backoff is 500ms", errors.New("x"), 1, now, 500 * time.Millisecond, true},
		{"doubles per attempt", errors.New("x"), 3, now, 2 * time.Second, true},
		{"caps at one minute", errors.New("x"), 20, now, time.Minute, true},
		{"retry-after longer than backoff wins", notify.RetryAfter(7*time.Second, errors.New("x")), 1, now, 7 * time.Second, true},
		{"past max age gives up", errors.New("x"), 5, now.Add(-time.Hour), 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, ok := p.NextAttempt(tc.err, tc.attempt, tc.created, now)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, tc.want, next.Sub(now))
			}
		})
	}
}

func TestDispatcher_CircuitOpenHoldsOrFailsOver(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	down.Store(true)
	flaky := newRecorder(func(*notify.Notification, int) error {
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	backup := newRecorder(nil)
	retry := fastRetry()
	b := setupWith(t, notify.DispatcherOptions{BreakerFailures: 3, BreakerTimeout: 300 * time.Millisecond},
		notify.ChannelConfig{Name: "a", Channel: flaky, Retry: retry, Concurrency: 1},
		notify.ChannelConfig{Name: "b", Channel: backup},
	)
	// Three failures open a's circuit.
	b.enqueue(t, "x0", 1, alert.High, notify.EventActive, nil, "a")
	require.Eventually(t, func() bool {
		h := b.disp.Health()
		return h[0].Circuit != "closed"
	}, 10*time.Second, 5*time.Millisecond)
	calls := flaky.calls.Load()

	// With the circuit open, a notification with a failover chain moves on
	// without a call to a; one without waits.
	b.enqueue(t, "x1", 1, alert.High, notify.EventActive, []string{"b"}, "a")
	n := backup.wait(t, 1)[0]
	require.Equal(t, "x1", n.Alert().ID)
	b.enqueue(t, "x2", 1, alert.High, notify.EventActive, nil, "a")
	require.LessOrEqual(t, flaky.calls.Load(), calls+1, "an open circuit lets at most a trial through")
	log, _ := b.st.DeliveryList(context.Background(), &store.DeliveryListParams{AlertID: "x1"})
	require.NotEmpty(t, log)

	// The endpoint recovers: the trial closes the circuit and the waiting
	// notifications are delivered.
	down.Store(false)
	got := flaky.wait(t, 2)
	ids := []string{got[0].Alert().ID, got[1].Alert().ID}
	require.ElementsMatch(t, []string{"x0", "x2"}, ids)
}

func TestDispatcher_RandomFailuresKeepCircuitClosed(t *testing.T) {
	t.Parallel()
	// One call in three fails, never twice in a row: retries cope and the
	// circuit stays closed.
	rec := newRecorder(func(_ *notify.Notification, call int) error {
		if call%3 == 0 {
			return &notify.StatusError{Code: 502}
		}
		return nil
	})
	b := setupWith(t, notify.DispatcherOptions{}, notify.ChannelConfig{Name: "ops", Channel: rec, Retry: fastRetry()})
	for i := range 60 {
		b.enqueue(t, fmt.Sprintf("r%d", i), 1, alert.High, notify.EventActive, nil, "ops")
	}
	rec.wait(t, 60)
	require.Equal(t, "closed", b.disp.Health()[0].Circuit)
}

func TestDispatcher_OneAlertInOrder(t *testing.T) {
	t.Parallel()
	// The first send is slow; with several senders the resolution must
	// still wait for it, and carry the thread it opened.
	rec := newRecorder(func(n *notify.Notification, call int) error {
		if n.Event == notify.EventActive {
			time.Sleep(150 * time.Millisecond)
		}
		return nil
	})
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: rec, Concurrency: 8})
	b.enqueue(t, "o1", 1, alert.High, notify.EventActive, nil, "ops")
	b.enqueue(t, "o1", 2, alert.High, notify.EventResolved, nil, "ops")
	got := rec.wait(t, 2)
	require.Equal(t, notify.EventActive, got[0].Event)
	require.Equal(t, notify.EventResolved, got[1].Event)
	require.Equal(t, "thread-o1", got[1].Thread, "the resolution threads to the first send")
}

// Records claimed but never attempted when the dispatcher stops (held back
// by a rate limit here) are released at once, not left leased until their
// leases end.
func TestDispatcher_StopReleasesHeldLeases(t *testing.T) {
	t.Parallel()
	rec := newRecorder(nil)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	defer st.Close()
	d, err := notify.NewDispatcher(notify.DispatcherOptions{Store: st, Owner: "me", BreakerFailures: 1000,
		Channels: []notify.ChannelConfig{{Name: "ops", Channel: rec, RateLimit: 0.001, Burst: 1}}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	b := &bundle{st: st, disp: d}
	for i := range 3 {
		b.enqueue(t, fmt.Sprintf("h%d", i), 1, alert.High, notify.EventActive, nil, "ops")
	}
	rec.wait(t, 1)
	cancel()
	<-done

	queued, err := st.NotificationList(context.Background(), &store.NotificationListParams{States: []store.NotificationState{store.NotificationQueued}})
	require.NoError(t, err)
	require.Len(t, queued, 2, "the rate limit let one through")
	for _, n := range queued {
		require.True(t, n.LockedUntil.IsZero(), "record %d is still leased until %s", n.ID, n.LockedUntil)
	}
}

// slowFinish writes outcomes, then lingers before returning, so the
// sweeper claims a due retry while its record is still held.
type slowFinish struct {
	store.Store
	linger time.Duration
}

func (s slowFinish) NotificationFinish(ctx context.Context, p *store.NotificationFinishParams) ([]*store.Notification, error) {
	out, err := s.Store.NotificationFinish(ctx, p)
	time.Sleep(s.linger)
	return out, err
}

// A retry that a sweep claims while its record is still held (the outcome
// written, the finisher not done) is sent at once after the finisher is
// done, not when the sweep's new lease ends (a minute here).
func TestDispatcher_RetryClaimedWhileHeldIsSent(t *testing.T) {
	t.Parallel()
	rec := newRecorder(func(_ *notify.Notification, call int) error {
		if call == 1 {
			return &notify.StatusError{Code: 503}
		}
		return nil
	})
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	defer st.Close()
	d, err := notify.NewDispatcher(notify.DispatcherOptions{Store: slowFinish{st, 300 * time.Millisecond}, Owner: "me",
		SweepInterval: 20 * time.Millisecond, BreakerFailures: 1000,
		Channels: []notify.ChannelConfig{{Name: "ops", Channel: rec, Retry: notify.RetryPolicy{
			InitialBackoff: 10 * time.Millisecond, MaxBackoff: 10 * time.Millisecond, Timeout: time.Second, Jitter: -1}}}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	b := &bundle{st: st, disp: d}
	b.enqueue(t, "rc1", 1, alert.High, notify.EventActive, nil, "ops")
	select {
	case <-rec.sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the retry waited for the sweep's lease")
	}
	require.EqualValues(t, 2, rec.calls.Load(), "sent more than once")
}
