package klaxon

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

// A self-alert left open by a release before Options.Excluded, its Channels
// already naming the failing channel, is loaded after the upgrade:
// renotification, acknowledgement and resolution, which use the stored
// Channels, still never tell the failing channel about itself.
func TestSelfAlert_RestoredChannelsLeaveItsChannelOut(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	routes := []*lifecycle.Route{{Notify: []string{"hook"}, RepeatInterval: time.Hour}}
	labels := alert.Labels{"alertname": SelfAlertName, "channel": "hook", "source": "klaxon"}

	// The previous release: no Excluded, the lone channel's self-alert fell
	// back to the routes and was stored with Channels [hook].
	old, err := lifecycle.New(ctx, lifecycle.Options{Store: st, Routes: routes, Now: clock, Owner: "old"})
	require.NoError(t, err)
	_, err = old.Push(ctx, []lifecycle.Pushed{{Labels: labels, Severity: alert.High, EndsAt: now.Add(24 * time.Hour)}})
	require.NoError(t, err)
	require.Equal(t, []string{"hook"}, old.Open()[0].Channels)

	// Restart on this commit, with the engine's own predicate.
	var sent []string
	m, err := lifecycle.New(ctx, lifecycle.Options{Store: st, Routes: routes, Now: clock, Owner: "new",
		Excluded: excludedChannel,
		OnEnqueue: func(ns []*store.Notification) {
			for _, n := range ns {
				sent = append(sent, n.Channel+":"+n.Event)
			}
		}})
	require.NoError(t, err)

	now = now.Add(time.Hour + time.Minute)
	require.NoError(t, m.Tick(ctx)) // repeat_interval passed: renotify
	_, err = m.Acknowledge(ctx, string(m.Open()[0].Fingerprint), "alice", "")
	require.NoError(t, err)
	_, err = m.Push(ctx, []lifecycle.Pushed{{Labels: labels, Resolved: true}}) // the channel recovered
	require.NoError(t, err)
	require.Empty(t, sent, "the self-alert about hook must never notify hook")
}
