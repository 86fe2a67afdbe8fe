package klaxon

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// fakeBoard is an in-memory store.HealthBoard: it counts reports and
// returns fixed reports of other replicas, always "just reported" (Age 0,
// as the database would measure it).
type fakeBoard struct {
	reports atomic.Int32
	mu      sync.Mutex
	others  []store.ChannelReport
}

func (b *fakeBoard) ReportChannels(context.Context, string, []store.ChannelReport) error {
	b.reports.Add(1)
	return nil
}

func (b *fakeBoard) ChannelReports(context.Context, time.Duration) ([]store.ChannelReport, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]store.ChannelReport(nil), b.others...), nil
}

func twoChannelEngine(t *testing.T, clock func() time.Time) *Engine {
	t.Helper()
	ok := notify.ChannelFunc(func(context.Context, *notify.Notification) (notify.Receipt, error) {
		return notify.Receipt{}, nil
	})
	e, err := New(WithDataDir(t.TempDir()), WithClock(clock), WithChannel("ops", ok), WithChannel("pager", ok))
	require.NoError(t, err)
	return e
}

// The heartbeat runs on real time, not the engine's clock: with a fake
// clock that does not move by itself, a replica still reports every
// interval, so its reports never go stale on the database's clock while it
// runs.
func TestChannelHealth_HeartbeatRunsOnRealTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	e := twoChannelEngine(t, func() time.Time { return now })
	board := &fakeBoard{}
	e.health.board = board
	e.SetBoardTiming(10*time.Millisecond, 50*time.Millisecond, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	time.Sleep(time.Second)
	cancel()
	<-done
	require.GreaterOrEqual(t, int(board.reports.Load()), 10,
		"a report is due every 50 ms of real time: the other replicas must keep hearing from this one")
}

// A report's age is its database age plus the real time since it was read:
// moving the engine's clock forward (as TestEngine_SelfAlertStaysOpenWhileTheChannelFails
// does) does not make a report read an instant ago look stale.
func TestChannelHealth_ClockJumpKeepsAFreshReport(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := twoChannelEngine(t, clock)
	board := &fakeBoard{others: []store.ChannelReport{{
		Replica: "klaxon-other", Channel: "ops", Type: "func", Circuit: "open", LastError: "refused",
	}}}
	e.health.board = board
	ctx := t.Context()
	open := func() bool {
		for _, a := range e.Alerts() {
			if a.Labels["alertname"] == SelfAlertName && a.Labels["channel"] == "ops" {
				return true
			}
		}
		return false
	}
	e.refreshSelfAlerts(ctx)
	require.True(t, open())

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	// A health event of this replica (any channel) reconciles, as the
	// self-alert loop does on the leader.
	e.reconcileSelfAlerts(ctx, false)
	require.True(t, open(), "the other replica's report was read a real instant ago: it still fails there")
}

func selfAlertOpen(e *Engine, channel string) bool {
	for _, a := range e.Alerts() {
		if a.Labels["alertname"] == SelfAlertName && a.Labels["channel"] == channel {
			return true
		}
	}
	return false
}

// A report counts until it is stale by its database age plus the real time
// since it was read, even when no read follows (the database is away).
func TestChannelHealth_StaleReportStopsCounting(t *testing.T) {
	t.Parallel()
	e := twoChannelEngine(t, time.Now)
	e.health.board = &fakeBoard{others: []store.ChannelReport{{
		Replica: "klaxon-other", Channel: "ops", Type: "func", Circuit: "open", LastError: "refused",
		Age: 800 * time.Millisecond,
	}}}
	e.SetBoardTiming(time.Hour, time.Hour, time.Second)
	ctx := t.Context()
	e.refreshSelfAlerts(ctx)
	require.True(t, selfAlertOpen(e, "ops"))
	e.reconcileSelfAlerts(ctx, false)
	require.True(t, selfAlertOpen(e, "ops"), "the report is 0.8 s old of 1 s")
	time.Sleep(300 * time.Millisecond)
	e.reconcileSelfAlerts(ctx, false)
	require.False(t, selfAlertOpen(e, "ops"), "the report went stale: its replica stopped reporting")
}

// A process that restarts with a self-alert open (restored from the store)
// does not resolve it before its own dispatcher has seen anything: the
// frequent reconcile leaves it, the periodic refresh resolves it if the
// channel has not failed by then, and a failure keeps it open.
func TestChannelHealth_RestoredSelfAlertWaitsForTheRefresh(t *testing.T) {
	t.Parallel()
	e := twoChannelEngine(t, time.Now)
	ctx := t.Context()
	require.NoError(t, e.pushSelfAlert(ctx, "ops", []failure{{replica: e.owner, circuit: "open", lastError: "refused", typ: "func"}}, false))
	require.True(t, selfAlertOpen(e, "ops"))

	e.reconcileSelfAlerts(ctx, false)
	require.True(t, selfAlertOpen(e, "ops"), "resolved with no evidence the channel works")
	e.refreshSelfAlerts(ctx)
	require.False(t, selfAlertOpen(e, "ops"))
}

// Without a successful read of the board in this term, a leader raises but
// never resolves; its next successful read reconciles everything.
func TestChannelHealth_NoResolveBeforeTheBoardIsRead(t *testing.T) {
	t.Parallel()
	e := twoChannelEngine(t, time.Now)
	board := &failingBoard{}
	board.fail.Store(true)
	e.health.board = board
	ctx := t.Context()
	require.NoError(t, e.pushSelfAlert(ctx, "ops", []failure{{replica: "klaxon-other", circuit: "open", lastError: "refused", typ: "func"}}, true))

	e.forgetBoard()
	e.refreshSelfAlerts(ctx) // a takeover whose read fails
	require.True(t, selfAlertOpen(e, "ops"))
	e.reconcileSelfAlerts(ctx, false) // a tick whose read failed too

	require.True(t, selfAlertOpen(e, "ops"))

	board.fail.Store(false) // the board says nothing fails anywhere
	read := e.readBoard(ctx)
	require.True(t, read)
	e.reconcileSelfAlerts(ctx, e.health.takeRefresh())
	require.False(t, selfAlertOpen(e, "ops"), "once read, the reports resolve it")
}

// failingBoard fails reads while fail is set and has no reports.
type failingBoard struct {
	fail atomic.Bool
}

func (b *failingBoard) ReportChannels(context.Context, string, []store.ChannelReport) error {
	return nil
}

func (b *failingBoard) ChannelReports(context.Context, time.Duration) ([]store.ChannelReport, error) {
	if b.fail.Load() {
		return nil, errors.New("connection reset")
	}
	return nil, nil
}

// A self-alert about a channel no longer configured (raised before a
// configuration change and restored from the store) is resolved by the
// next forced reconcile, not left to its 24 h end time; other pushed
// alerts are left alone.
func TestChannelHealth_RemovedChannelsSelfAlertResolves(t *testing.T) {
	t.Parallel()
	e := twoChannelEngine(t, time.Now)
	ctx := t.Context()
	require.NoError(t, e.pushSelfAlert(ctx, "old", []failure{{replica: e.owner, circuit: "open", lastError: "refused", typ: "webhook"}}, false))
	require.True(t, selfAlertOpen(e, "old"))
	other := alert.Labels{"alertname": SelfAlertName, "channel": "old"} // not klaxon's own: no source label
	_, err := e.manager.Push(ctx, []lifecycle.Pushed{{Labels: other, Severity: alert.High}})
	require.NoError(t, err)

	require.Len(t, e.Alerts(), 2)
	e.reconcileSelfAlerts(ctx, false)
	require.Len(t, e.Alerts(), 2, "only a forced reconcile reads every open alert")
	e.refreshSelfAlerts(ctx)
	open := e.Alerts()
	require.Len(t, open, 1, "the look-alike pushed from outside stays")
	require.Equal(t, other, open[0].Labels)
}
