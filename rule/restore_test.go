package rule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

func TestEvaluator_Restore(t *testing.T) {
	t.Parallel()
	q := newFake()
	ev := NewEvaluator(q, nil)
	r := &Rule{ID: "hot", Condition: "temp > 50", Severity: alert.High, Labels: alert.Labels{"team": "ops"}}
	require.NoError(t, ev.SetRules([]*Rule{r}))
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	alertLabels := alert.Labels{"alertname": "hot", "team": "ops", "room": "a"}

	require.False(t, ev.Restore("nope", alertLabels, Firing, now), "unknown rule")
	require.False(t, ev.Restore("hot", alertLabels, Inactive, now), "only pending or firing")
	require.True(t, ev.Restore("hot", alertLabels, Firing, now.Add(-time.Hour)))

	// No data: the restored series keeps its state.
	res := ev.Eval(now)
	require.Len(t, res, 1)
	require.Equal(t, NoData, res[0].State)
	require.Equal(t, alert.NewFingerprint("hot", alertLabels), res[0].Fingerprint)

	// Clear data: Inactive, with the alert's fingerprint, so it resolves.
	q.set("temp", metric.Result{Labels: alert.Labels{"room": "a"}, Value: 20})
	res = ev.Eval(now.Add(time.Minute))
	require.Len(t, res, 1)
	require.Equal(t, Inactive, res[0].State)
	require.Equal(t, alert.NewFingerprint("hot", alertLabels), res[0].Fingerprint)
}

// After Reset the evaluator knows no series: a series it tracked as firing
// is not reported when its data clears (the alert is another leader's to
// resolve, or comes back through Restore).
func TestEvaluator_Reset(t *testing.T) {
	t.Parallel()
	q := newFake()
	ev := NewEvaluator(q, nil)
	require.NoError(t, ev.SetRules([]*Rule{{ID: "hot", Condition: "temp > 50", Severity: alert.High}}))
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	q.set("temp", metric.Result{Labels: alert.Labels{"room": "a"}, Value: 80})
	res := ev.Eval(now)
	require.Len(t, res, 1)
	require.Equal(t, Firing, res[0].State)

	ev.Reset()
	q.set("temp", metric.Result{Labels: alert.Labels{"room": "a"}, Value: 20})
	require.Empty(t, ev.Eval(now.Add(time.Minute)), "a forgotten series was reported")
	q.set("temp", metric.Result{Labels: alert.Labels{"room": "a"}, Value: 90})
	res = ev.Eval(now.Add(2 * time.Minute))
	require.Len(t, res, 1)
	require.Equal(t, Firing, res[0].State)
	require.Equal(t, now.Add(2*time.Minute), res[0].ActiveAt, "fires anew")
}
