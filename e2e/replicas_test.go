package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/e2e/klaxontest"
)

// freshDatabase creates an empty database on the test server and returns
// its URL; it is dropped when the test ends. It skips without
// KLAXON_TEST_DATABASE_URL.
func freshDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("KLAXON_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("KLAXON_TEST_DATABASE_URL not set: skipping the replica set test (CI sets it)")
	}
	name := fmt.Sprintf("klaxon_e2e_%d", rand.Uint64())
	conn, err := pgx.Connect(t.Context(), base)
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(t, err)
	_ = conn.Close(t.Context())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, base); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			_ = conn.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

// startReplicaProcess runs `klaxon serve` on the shared database.
func startReplicaProcess(t *testing.T, dbURL, yaml string) *klaxontest.Process {
	t.Helper()
	return startServe(t, func(addr, _ string) string {
		return fmt.Sprintf("server:\n  listen: %q\n  database_url: %q\n  resolve_timeout: 1h\n", addr, dbURL)
	}, yaml)
}

// TestReplicasKillTheLeader: two `klaxon serve` replicas share PostgreSQL
// while 1,000 alerts are posted to the follower. The leader is killed with
// SIGKILL half way and started again: the follower takes the lead, the old
// leader comes back as a follower, every alert is delivered, and every
// duplicate carries its original's webhook-id.
func TestReplicasKillTheLeader(t *testing.T) {
	t.Parallel()
	const n = 1000
	dbURL := freshDatabase(t)
	recv := newReceiver(t, klaxontest.ReceiverConfig{})
	yaml := "channels:\n" + webhookYAML("ops", recv.URL()+"/hook") + "routes:\n  - notify: [ops]\n"
	a := startReplicaProcess(t, dbURL, yaml)
	require.True(t, a.Leading(t.Context()), "the first replica leads")
	b := startReplicaProcess(t, dbURL, yaml)
	require.False(t, b.Leading(t.Context()))

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	type pushResult struct {
		ids []string
		err error
	}
	pushed := make(chan pushResult, 1)
	go func() {
		// Posted to the follower, which forwards them to whoever leads; a
		// 503 during the takeover is retried.
		ids, err := pushAlerts(ctx, klaxontest.NewClient(b.URL()), "rep", n, 25, 40*time.Millisecond)
		pushed <- pushResult{ids, err}
	}()
	time.Sleep(500*time.Millisecond + rand.N(500*time.Millisecond))
	require.NoError(t, a.Kill())
	eventually(t, 30*time.Second, "the follower takes the lead", func() bool { return b.Leading(t.Context()) })
	require.NoError(t, a.Restart(ctx))

	res := <-pushed
	require.NoError(t, res.err)
	require.Len(t, res.ids, n)
	// Records the killed leader held wait for their lease (15 s) to end.
	require.NoError(t, recv.Wait(ctx, klaxontest.TypeActive, n))
	v := recv.Check(klaxontest.TypeActive, res.ids)
	require.Empty(t, v.Missing, "lost notifications")
	require.Empty(t, v.KeyConflicts, "duplicates under another webhook-id")
	require.True(t, b.Leading(t.Context()), "the lead moved back without a reason")
	require.False(t, a.Leading(t.Context()), "the restarted replica leads beside the other")
	alerts, err := klaxontest.NewClient(a.URL()).Alerts(ctx, "")
	require.NoError(t, err)
	require.Len(t, alerts, n, "the restarted follower answers from the leader")
	t.Logf("%s", v)
}
