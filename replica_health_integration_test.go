package klaxon_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// replicaSchema names a fresh schema for one replica-set test and drops it
// afterwards; the test skips without a database.
func replicaSchema(t *testing.T) (dbURL, schema string) {
	t.Helper()
	dbURL = os.Getenv("KLAXON_TEST_DATABASE_URL")
	if dbURL == "" {
		t.Skip("KLAXON_TEST_DATABASE_URL not set: skipping the replica set test (CI sets it)")
	}
	schema = fmt.Sprintf("klaxon_replicas_%d", rand.Uint64())
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dbURL)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			_ = conn.Close(context.Background())
		}
	})
	return dbURL, schema
}

// A channel that fails only on a follower (a network path of its own)
// raises the self-alert on the leader, which names the follower and tells
// the other channel; it resolves when the follower sees the channel work
// again, and when the follower stops (it withdraws its reports).
func TestReplicas_ChannelFailingOnAFollowerRaisesTheSelfAlert(t *testing.T) {
	t.Parallel()
	dbURL, schema := replicaSchema(t)
	cfg, ops, pager := opsAndPager(t)

	const every, report, stale = 50 * time.Millisecond, 200 * time.Millisecond, time.Minute
	fast := func(e *klaxon.Engine) { e.SetBoardTiming(every, report, stale) }
	a := startReplicaWith(t, dbURL, schema, cfg, fast)
	require.True(t, a.eng.Leading())
	// On the follower, ops fails whenever opsDown is set.
	var opsDown atomic.Bool
	const refused = "POST http://10.0.0.9/hook: dial tcp 10.0.0.9:80: connect: connection refused"
	b := startReplicaWith(t, dbURL, schema, cfg, func(e *klaxon.Engine) {
		fast(e)
		e.SetChannelView(func(own []notify.ChannelHealth) []notify.ChannelHealth {
			for i := range own {
				if own[i].Name == "ops" && opsDown.Load() {
					own[i].Healthy, own[i].Circuit, own[i].LastError = false, "open", refused
				}
			}
			return own
		})
	})
	require.False(t, b.eng.Leading())

	selfAlert := func() *alert.Alert { return openSelfAlert(a.eng, "ops") }
	types := (*replicaHook).types
	// Healthy everywhere: several rounds of reports and reads raise nothing.
	time.Sleep(5 * every)
	require.Nil(t, selfAlert())

	opsDown.Store(true)
	b.eng.ChannelHealthChanged(notify.ChannelHealth{Name: "ops", Type: "webhook", Circuit: "open", LastError: refused})
	require.Eventually(t, func() bool { return selfAlert() != nil }, 10*time.Second, 10*time.Millisecond,
		"the leader did not raise the self-alert about a channel failing on the follower")
	got := selfAlert()
	require.Equal(t, alert.High, got.Severity)
	require.Equal(t, "klaxon cannot deliver through channel ops from replica "+b.eng.Owner()+" (circuit open): "+refused, got.Description)
	require.Equal(t, b.eng.Owner(), got.Annotations["replicas"])
	require.Equal(t, "webhook", got.Annotations["channel_type"])
	require.Equal(t, []string{"pager"}, got.Channels, "the self-alert goes to the other channel only")
	require.Eventually(t, func() bool { return len(pager.got()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"alert.active"}, types(pager))
	require.Empty(t, ops.got(), "the failing channel never hears about itself")

	// While nothing changes, the leader pushes nothing more: no deduplicated
	// posts pile up in the delivery log, and nobody is told twice.
	logged := func() []*store.Delivery {
		ds, err := a.eng.Store().DeliveryList(t.Context(), &store.DeliveryListParams{AlertID: got.ID})
		require.NoError(t, err)
		return ds
	}
	countLog := func() int { return len(logged()) }
	// The send to pager is logged once its answer is in.
	require.Eventually(t, func() bool {
		for _, d := range logged() {
			if d.Channel == "pager" && d.Outcome == store.OutcomeSent {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	before := countLog()
	time.Sleep(10 * every)
	require.Equal(t, before, countLog())
	require.Len(t, pager.got(), 1)

	// The follower sees ops work again: the leader resolves the alert.
	opsDown.Store(false)
	b.eng.ChannelHealthChanged(notify.ChannelHealth{Name: "ops", Type: "webhook", Circuit: "closed", Healthy: true})
	require.Eventually(t, func() bool { return selfAlert() == nil }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(pager.got()) == 2 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"alert.active", "alert.resolved"}, types(pager))

	// Failing again, then the follower stops: it withdraws its reports
	// (long before they would go stale) and the leader resolves the alert,
	// since nothing delivers from there now.
	opsDown.Store(true)
	b.eng.ChannelHealthChanged(notify.ChannelHealth{Name: "ops", Type: "webhook", Circuit: "open", LastError: refused})
	require.Eventually(t, func() bool { return selfAlert() != nil }, 10*time.Second, 10*time.Millisecond)
	b.stop()
	require.Eventually(t, func() bool { return selfAlert() == nil }, 10*time.Second, 20*time.Millisecond,
		"a stopped follower's report kept the self-alert open")
}

// opsAndPager is a configuration with two webhook channels, ops (which the
// route notifies) and pager, each posting to a receiver of its own.
func opsAndPager(t *testing.T) (cfg *config.Config, ops, pager *replicaHook) {
	t.Helper()
	ops, pager = &replicaHook{}, &replicaHook{}
	opsSrv, pagerSrv := httptest.NewServer(ops), httptest.NewServer(pager)
	t.Cleanup(opsSrv.Close)
	t.Cleanup(pagerSrv.Close)
	yml := "channels:\n  ops:\n    type: webhook\n    url: " + opsSrv.URL + "/hook\n" +
		"  pager:\n    type: webhook\n    url: " + pagerSrv.URL + "/hook\n" +
		"routes:\n  - notify: [ops]\n"
	cfg, err := config.Parse("replicas.yml", []byte(yml), klaxon.LoadOptions(func(string) string { return "" }))
	require.NoError(t, err)
	return cfg, ops, pager
}
