package e2e

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/e2e/klaxontest"
)

// TestFlakyReceiver: with 30% of the receiver's calls failing at random
// (half 500, half held past the attempt timeout) every notification arrives,
// and every duplicate carries its original's webhook-id.
func TestFlakyReceiver(t *testing.T) {
	t.Parallel()
	const n = 500
	// Never two failures in a row as calls arrive (held calls finish later,
	// so klaxon may still see a few in a row): 5 consecutive failures open
	// the channel's circuit for 30 s (not configurable), which would only
	// slow this test down; klaxon-bench -mode flaky runs without the cap.
	// With the cap, failing 3/7 of the other calls fails 30% of all: f =
	// r(1-f) gives f = 0.3 for r = 3/7.
	recv := newReceiver(t, klaxontest.ReceiverConfig{Fault: klaxontest.Flaky(3.0/7, 600*time.Millisecond, 1), KeepCalls: true})
	c := startEngine(t, "channels:\n"+webhookYAML("ops", recv.URL()+"/hook")+"routes:\n  - notify: [ops]\n")

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	ids, err := pushAlerts(ctx, c, "flaky", n, 100, 0)
	require.NoError(t, err)
	require.NoError(t, recv.Wait(ctx, klaxontest.TypeActive, n))

	v := recv.Check(klaxontest.TypeActive, ids)
	require.Empty(t, v.Missing, "lost notifications")
	require.Empty(t, v.KeyConflicts, "duplicates under another webhook-id")
	st := recv.Stats()
	require.Greater(t, st.Calls, int64(n), "the receiver failed calls, so there were retries")
	require.Zero(t, st.BadBodies)
	failed := 0
	for _, call := range recv.Calls() {
		if call.Status != http.StatusOK {
			failed++
		}
	}
	t.Logf("%d calls for %d notifications (%.0f%% failed), %s", st.Calls, n, 100*float64(failed)/float64(st.Calls), v)
}

// TestKillNine: SIGKILL klaxon three times at random instants while 1,000
// notifications flow, restarting it on the same data directory: nothing is
// lost and every duplicate carries its original's webhook-id.
func TestKillNine(t *testing.T) {
	t.Parallel()
	const n = 1000
	recv := newReceiver(t, klaxontest.ReceiverConfig{})
	p := startProcess(t, "channels:\n"+webhookYAML("ops", recv.URL()+"/hook")+"routes:\n  - notify: [ops]\n")
	c := klaxontest.NewClient(p.URL())

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	type pushResult struct {
		ids []string
		err error
	}
	pushed := make(chan pushResult, 1)
	go func() {
		ids, err := pushAlerts(ctx, c, "kill", n, 25, 40*time.Millisecond)
		pushed <- pushResult{ids, err}
	}()
	for k := range 3 {
		time.Sleep(200*time.Millisecond + rand.N(800*time.Millisecond))
		require.NoError(t, p.Kill(), "kill %d", k+1)
		require.NoError(t, p.Restart(ctx), "restart %d", k+1)
	}
	res := <-pushed
	require.NoError(t, res.err)
	ids := res.ids
	require.Len(t, ids, n)
	require.NoError(t, recv.Wait(ctx, klaxontest.TypeActive, n))

	v := recv.Check(klaxontest.TypeActive, ids)
	require.Empty(t, v.Missing, "lost notifications")
	require.Empty(t, v.KeyConflicts, "duplicates under another webhook-id")
	require.Equal(t, 3, p.Restarts())
	t.Logf("%d restarts, %s", p.Restarts(), v)
}

// TestRetryAfter: a 429 with Retry-After: 2 is retried, and not sooner than
// 2 s, although the channel's own backoff is 50ms.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, klaxontest.ReceiverConfig{Fault: klaxontest.RetryAfterOnce(2), KeepCalls: true})
	c := startEngine(t, "channels:\n"+webhookYAML("ops", recv.URL()+"/hook")+"routes:\n  - notify: [ops]\n")

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err := pushAlerts(ctx, c, "ra", 1, 1, 0)
	require.NoError(t, err)
	require.NoError(t, recv.Wait(ctx, klaxontest.TypeActive, 1))

	calls := recv.Calls()
	require.Len(t, calls, 2, "one 429, one accepted retry")
	require.Equal(t, http.StatusTooManyRequests, calls[0].Status)
	require.Equal(t, http.StatusOK, calls[1].Status)
	require.Equal(t, calls[0].WebhookID, calls[1].WebhookID, "the retry reuses the idempotency key")
	gap := calls[1].At.Sub(calls[0].At)
	require.GreaterOrEqual(t, gap, 2*time.Second, "retried %s after Retry-After: 2", gap)
}

// TestFailoverLogged: channel a answers 400 (permanent), so the notification
// fails over to b at once; the delivery log shows both steps.
func TestFailoverLogged(t *testing.T) {
	t.Parallel()
	a := newReceiver(t, klaxontest.ReceiverConfig{Fault: klaxontest.Always(http.StatusBadRequest), KeepCalls: true})
	b := newReceiver(t, klaxontest.ReceiverConfig{KeepCalls: true})
	c := startEngine(t, "channels:\n"+webhookYAML("a", a.URL()+"/a")+webhookYAML("b", b.URL()+"/b")+
		"routes:\n  - notify: [a]\n    failover: [b]\n")

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	pushed, err := c.PushAlerts(ctx, []klaxontest.PushAlert{{Labels: map[string]string{"id": "fo-1"}, Severity: "critical", Summary: "failover"}})
	require.NoError(t, err)
	require.Len(t, pushed, 1)
	require.NoError(t, b.Wait(ctx, klaxontest.TypeActive, 1))

	require.Len(t, a.Calls(), 1, "a permanent failure is not retried")
	require.Equal(t, http.StatusBadRequest, a.Calls()[0].Status)
	got := b.Deliveries("fo-1")
	require.Len(t, got, 1)
	require.Equal(t, pushed[0].ID, got[0].Alerts[0].ID)

	var log []klaxontest.LogEntry
	eventually(t, 30*time.Second, "delivery log with both steps", func() bool {
		log, err = c.Deliveries(ctx, pushed[0].ID, "")
		require.NoError(t, err)
		return hasEntry(log, "a", "failed_over") && hasEntry(log, "b", "sent")
	})
	for _, e := range log {
		require.Equal(t, pushed[0].ID, e.AlertID, "the log is filtered by alert")
		require.Equal(t, "alert.active", e.Event)
	}
}

func hasEntry(log []klaxontest.LogEntry, channel, outcome string) bool {
	for _, e := range log {
		if e.Channel == channel && e.Outcome == outcome {
			return true
		}
	}
	return false
}

// TestEscalation: an alert nobody acknowledges reaches the pager channel,
// and not before the step's 2 s; an acknowledged one never does.
func TestEscalation(t *testing.T) {
	t.Parallel()
	ops := newReceiver(t, klaxontest.ReceiverConfig{KeepCalls: true})
	pager := newReceiver(t, klaxontest.ReceiverConfig{KeepCalls: true})
	c := startEngine(t, "channels:\n"+webhookYAML("ops", ops.URL()+"/ops")+webhookYAML("pager", pager.URL()+"/pager")+
		"routes:\n  - notify: [ops]\n    escalate:\n      - after: 2s\n        notify: [pager]\n")

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	start := time.Now()
	pushed, err := c.PushAlerts(ctx, []klaxontest.PushAlert{
		{Labels: map[string]string{"id": "esc-open"}, Severity: "critical", Summary: "nobody acks"},
		{Labels: map[string]string{"id": "esc-acked"}, Severity: "critical", Summary: "acked at once"},
	})
	require.NoError(t, err)
	require.Len(t, pushed, 2)
	acked, err := c.Ack(ctx, pushed[1].ID, "e2e")
	require.NoError(t, err)
	require.Equal(t, "acknowledged", acked.State)
	ackedInTime := time.Since(start) < 2*time.Second

	eventually(t, 45*time.Second, "escalation of the open alert to pager", func() bool {
		return len(pager.Deliveries("esc-open")) > 0
	})
	got := pager.Deliveries("esc-open")[0]
	require.GreaterOrEqual(t, got.At.Sub(start), 2*time.Second, "escalated before the step's delay")
	require.Equal(t, pushed[0].ID, got.Alerts[0].ID)
	require.NotEmpty(t, ops.Deliveries("esc-open"), "the route's own channel was told first")

	if !ackedInTime {
		t.Skip("the acknowledgement took longer than the escalation delay on this machine; its half of the test says nothing")
	}
	// Escalation is checked for both alerts on the same tick; give it a
	// moment more, then the acknowledged alert must not have reached pager.
	time.Sleep(time.Second)
	require.Empty(t, pager.Deliveries("esc-acked"), "an acknowledged alert escalated")
}
