package postgres_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/store"
)

// Each replica's report replaces its earlier one, reads see every replica's
// fresh reports in order with their age by the database's clock, and old
// reports drop out of reads.
func TestHealthBoard_ReportsReplaceAndAge(t *testing.T) {
	rs, schema := openReplicas(t, 2)
	a, b := rs[0], rs[1]
	ctx := t.Context()

	got, err := a.ChannelReports(ctx, time.Minute)
	require.NoError(t, err)
	require.Empty(t, got)

	require.NoError(t, a.ReportChannels(ctx, "ra", []store.ChannelReport{
		{Channel: "ops", Type: "webhook", Healthy: true, Circuit: "closed"},
		{Channel: "pager", Type: "pagerduty", Healthy: false, Circuit: "open", LastError: "HTTP 503"},
	}))
	require.NoError(t, b.ReportChannels(ctx, "rb", []store.ChannelReport{
		{Channel: "ops", Type: "webhook", Healthy: false, Circuit: "open", LastError: "dial tcp: connection refused"},
	}))
	got, err = b.ChannelReports(ctx, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i := range got {
		require.GreaterOrEqual(t, got[i].Age, time.Duration(0))
		require.Less(t, got[i].Age, 30*time.Second)
		got[i].Age = 0
	}
	require.Equal(t, []store.ChannelReport{
		{Replica: "ra", Channel: "ops", Type: "webhook", Healthy: true, Circuit: "closed"},
		{Replica: "rb", Channel: "ops", Type: "webhook", Healthy: false, Circuit: "open", LastError: "dial tcp: connection refused"},
		{Replica: "ra", Channel: "pager", Type: "pagerduty", Healthy: false, Circuit: "open", LastError: "HTTP 503"},
	}, got)

	// ra's next report replaces all its rows: pager recovered, ops gone
	// from its configuration.
	require.NoError(t, a.ReportChannels(ctx, "ra", []store.ChannelReport{
		{Channel: "pager", Type: "pagerduty", Healthy: true, Circuit: "closed"},
	}))
	got, err = a.ChannelReports(ctx, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "rb", got[0].Replica)
	require.Equal(t, "ra", got[1].Replica)
	require.True(t, got[1].Healthy)

	// A report older than the window is left out; one older than a day is
	// deleted by the next report of any replica.
	conn, err := pgx.Connect(ctx, testURL(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	tbl := pgx.Identifier{schema, "channel_health"}.Sanitize()
	_, err = conn.Exec(ctx, "UPDATE "+tbl+" SET reported_at = now() - interval '2 minutes' WHERE replica = 'rb'")
	require.NoError(t, err)
	got, err = a.ChannelReports(ctx, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "ra", got[0].Replica)
	got, err = a.ChannelReports(ctx, 5*time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.InDelta(t, 2*time.Minute, got[0].Age, float64(30*time.Second))

	_, err = conn.Exec(ctx, "UPDATE "+tbl+" SET reported_at = now() - interval '25 hours' WHERE replica = 'rb'")
	require.NoError(t, err)
	require.NoError(t, a.ReportChannels(ctx, "ra", nil))
	var n int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM "+tbl).Scan(&n))
	require.Zero(t, n, "an empty report removes the replica's rows, and day-old rows of others go too")
}
