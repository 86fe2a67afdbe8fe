package e2e

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/e2e/klaxontest"
	"github.com/klaxonhq/klaxon/notify"
)

// TestBacklogWaitsInTheStore: a receiver down while 12,000 alerts fire,
// then klaxon killed and restarted. The restarted klaxon brings at most
// notify.DefaultMaxHeld of the backlog into memory, shows the rest as
// queued, and delivers every one once the receiver is back.
func TestBacklogWaitsInTheStore(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: 12,000 alerts through a child process")
	}
	const n = notify.DefaultMaxHeld + 2000
	var down atomic.Bool
	down.Store(true)
	recv := newReceiver(t, klaxontest.ReceiverConfig{Fault: func(*klaxontest.Call) klaxontest.Fault {
		if down.Load() {
			return klaxontest.Fault{Status: http.StatusServiceUnavailable}
		}
		return klaxontest.Fault{}
	}})
	p := startProcess(t, "channels:\n"+webhookYAML("ops", recv.URL()+"/hook")+"routes:\n  - notify: [ops]\n")
	c := klaxontest.NewClient(p.URL())
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()

	_, err := pushAlerts(ctx, c, "bl", n, 2000, 0)
	require.NoError(t, err)
	require.NoError(t, p.Kill())
	require.NoError(t, p.Restart(ctx))

	type channel struct {
		Name    string `json:"name"`
		Pending int    `json:"pending"`
		Queued  int    `json:"queued"`
	}
	ops := func() channel {
		var res struct {
			Channels []channel `json:"channels"`
		}
		require.NoError(t, c.Do(ctx, http.MethodGet, "/api/v1/channels", nil, &res))
		for _, ch := range res.Channels {
			if ch.Name == "ops" {
				return ch
			}
		}
		t.Fatalf("no channel ops in %+v", res.Channels)
		return channel{}
	}
	most := 0
	var last channel
	eventually(t, time.Minute, "the backlog queued in the store, its fill held", func() bool {
		last = ops()
		most = max(most, last.Pending)
		return last.Queued == n && last.Pending == notify.DefaultMaxHeld
	})
	for range 20 {
		ch := ops()
		most = max(most, ch.Pending)
		time.Sleep(50 * time.Millisecond)
	}
	require.LessOrEqual(t, most, notify.DefaultMaxHeld, "held in memory after the restart")

	down.Store(false)
	require.NoError(t, recv.Wait(ctx, klaxontest.TypeActive, n))
	eventually(t, time.Minute, "nothing left queued", func() bool { return ops().Queued == 0 })
	require.Zero(t, recv.Stats().BadBodies)
}
