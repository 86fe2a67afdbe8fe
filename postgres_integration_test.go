package klaxon_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/store/postgres"
)

// TestEngine_PostgresStore runs the engine on PostgreSQL: an alert pushed
// is delivered, and a second engine on the same database (a restart) finds
// it in the same state.
func TestEngine_PostgresStore(t *testing.T) {
	t.Parallel()
	url := os.Getenv("KLAXON_TEST_DATABASE_URL")
	if url == "" {
		t.Skip("KLAXON_TEST_DATABASE_URL not set: skipping the PostgreSQL engine test (CI sets it)")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("klaxon_engine_%d", rand.Uint64())
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			_ = conn.Close(context.Background())
		}
	})
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cfg, err := config.Parse("pg.yml", []byte("channels:\n  ops:\n    type: webhook\n    url: "+srv.URL+"/hook\nroutes:\n  - notify: [ops]\n"),
		klaxon.LoadOptions(func(string) string { return "" }))
	require.NoError(t, err)

	run := func() (*klaxon.Engine, func()) {
		st, err := postgres.Open(ctx, url, &postgres.Options{Schema: schema})
		require.NoError(t, err)
		eng, err := klaxon.New(klaxon.WithConfig(cfg), klaxon.WithStore(st), klaxon.WithDataDir(t.TempDir()))
		require.NoError(t, err)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = eng.Run(rctx); close(done) }()
		<-eng.Ready()
		return eng, func() { cancel(); <-done; st.Close() }
	}
	eng, stop := run()
	res, err := eng.Manager().Push(ctx, []lifecycle.Pushed{{Labels: alert.Labels{"alertname": "pg"}, Severity: alert.High}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(h.types()) == 1 }, 30*time.Second, 10*time.Millisecond)
	_, err = eng.Manager().Acknowledge(ctx, res[0].ID, "alice", "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(h.types()) == 2 }, 30*time.Second, 10*time.Millisecond)
	stop()

	eng2, stop2 := run()
	defer stop2()
	open := eng2.Alerts()
	require.Len(t, open, 1)
	require.Equal(t, alert.StateAcknowledged, open[0].State)
	require.Equal(t, "alice", open[0].AcknowledgedBy)
	require.Equal(t, []string{"alert.active", "alert.acknowledged"}, h.types())
}
