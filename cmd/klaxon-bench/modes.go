package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/e2e/klaxontest"
)

// chaosRetry is the fast retry policy of the chaos modes.
func chaosRetry(o *options) retryPolicy {
	return retryPolicy{Timeout: o.attemptTimeout, InitialBackoff: 50 * time.Millisecond, MaxBackoff: time.Second, MaxAge: time.Hour}
}

// chaosResult is the outcome of one chaos mode.
type chaosResult struct {
	Mode          string        `json:"mode"`
	Notifications int           `json:"notifications"`
	Delivered     int           `json:"delivered"`
	Lost          int           `json:"lost"`
	Duplicates    int           `json:"duplicates"`
	KeyConflicts  int           `json:"key_conflicts"`
	Attempts      int64         `json:"attempts"`
	Restarts      int           `json:"restarts,omitempty"`
	Time          time.Duration `json:"time_ns"`
	RetryGap      time.Duration `json:"retry_gap_ns,omitempty"`
	OK            bool          `json:"ok"`
	Note          string        `json:"note,omitempty"`
}

// runFlaky sends o.notifications through a receiver that fails o.failRate of
// the calls (half 500, half held past the attempt timeout).
func runFlaky(ctx context.Context, o *options) (chaosResult, error) {
	res := chaosResult{Mode: "flaky", Notifications: o.notifications}
	hold := o.attemptTimeout + 250*time.Millisecond
	r, err := startRig(ctx, o, rigConfig{retry: chaosRetry(o), fault: klaxontest.Flaky(o.failRate, hold, 0)})
	if err != nil {
		return res, err
	}
	defer r.close()
	all, ids := alerts("f", 0, o.notifications)
	start := time.Now()
	var wg sync.WaitGroup
	batches := make(chan []klaxontest.PushAlert, len(all)/o.batch+1)
	for i := 0; i < len(all); i += o.batch {
		batches <- all[i:min(i+o.batch, len(all))]
	}
	close(batches)
	for range o.posters {
		wg.Go(func() {
			for b := range batches {
				_, _ = pushUntilAccepted(ctx, r.api, b)
			}
		})
	}
	wg.Wait()
	wctx, cancel := context.WithTimeout(ctx, o.deadline)
	defer cancel()
	werr := r.recv.Wait(wctx, klaxontest.TypeActive, len(ids))
	res.Time = time.Since(start)
	fill(&res, r, ids)
	res.Note = fmt.Sprintf("%.0f%% of calls fail (half 500, half held %s > timeout %s)", 100*o.failRate, hold, o.attemptTimeout)
	return res, assertDelivered(res, werr)
}

// runKill sends o.notifications at o.killRate alerts/s while SIGKILLing
// klaxon o.kills times at random instants, restarting it on the same data
// directory each time.
func runKill(ctx context.Context, o *options) (chaosResult, error) {
	res := chaosResult{Mode: "kill", Notifications: o.notifications}
	r, err := startRig(ctx, o, rigConfig{retry: chaosRetry(o)})
	if err != nil {
		return res, err
	}
	defer r.close()
	all, ids := alerts("k", 0, o.notifications)
	const batch = 50
	interval := time.Duration(float64(time.Second) * batch / o.killRate)
	start := time.Now()
	posted := make(chan struct{})
	go func() {
		defer close(posted)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; i < len(all); i += batch {
			_, _ = pushUntilAccepted(ctx, r.api, all[i:min(i+batch, len(all))])
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	var killErr error
	for k := 0; k < o.kills && killErr == nil; k++ {
		wait := o.killMin + rand.N(o.killMax-o.killMin+1)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return res, context.Cause(ctx)
		}
		if killErr = r.proc.Kill(); killErr == nil {
			o.logf("kill: SIGKILL %d after %s; %d alerts seen so far", k+1, wait.Round(time.Millisecond), r.recv.Count(klaxontest.TypeActive))
			killErr = r.proc.Restart(ctx)
		}
	}
	if killErr != nil {
		return res, killErr
	}
	<-posted
	wctx, cancel := context.WithTimeout(ctx, o.deadline)
	defer cancel()
	werr := r.recv.Wait(wctx, klaxontest.TypeActive, len(ids))
	res.Time = time.Since(start)
	res.Restarts = r.proc.Restarts()
	fill(&res, r, ids)
	res.Note = fmt.Sprintf("posted at %.0f alerts/s; kills %s-%s apart", o.killRate, o.killMin, o.killMax)
	return res, assertDelivered(res, werr)
}

// runRetryAfter answers each notification's first call with 429 and
// Retry-After: 2, and measures the gap to the second call.
func runRetryAfter(ctx context.Context, o *options) (chaosResult, error) {
	// One notification: five 429s in a row would open the channel's circuit
	// breaker, which then holds retries for its own timeout.
	const n, secs = 1, 2
	res := chaosResult{Mode: "retry-after", Notifications: n}
	r, err := startRig(ctx, o, rigConfig{retry: chaosRetry(o), fault: klaxontest.RetryAfterOnce(secs), keepCalls: true})
	if err != nil {
		return res, err
	}
	defer r.close()
	batch, ids := alerts("r", 0, n)
	start := time.Now()
	if _, err := pushUntilAccepted(ctx, r.api, batch); err != nil {
		return res, err
	}
	wctx, cancel := context.WithTimeout(ctx, o.deadline)
	defer cancel()
	werr := r.recv.Wait(wctx, klaxontest.TypeActive, n)
	res.Time = time.Since(start)
	fill(&res, r, ids)
	calls := map[string][]time.Time{}
	for _, c := range r.recv.Calls() {
		calls[c.WebhookID] = append(calls[c.WebhookID], c.At)
	}
	res.RetryGap = time.Duration(1<<63 - 1)
	for _, at := range calls {
		if len(at) >= 2 {
			res.RetryGap = min(res.RetryGap, at[1].Sub(at[0]))
		}
	}
	res.Note = "gap between a 429 (Retry-After: 2) and the retry; the channel's own backoff is 50ms"
	if err := assertDelivered(res, werr); err != nil {
		return res, err
	}
	if res.RetryGap < secs*time.Second {
		res.OK = false
		return res, fmt.Errorf("%w: retried %s after a 429 with Retry-After: %d", errAssertion, res.RetryGap, secs)
	}
	return res, nil
}

// fill copies the receiver's verdict into res.
func fill(res *chaosResult, r *rig, ids []string) {
	v := r.recv.Check(klaxontest.TypeActive, ids)
	st := r.recv.Stats()
	res.Lost = len(v.Missing)
	res.Delivered = len(ids) - res.Lost
	res.Duplicates = v.Duplicates
	res.KeyConflicts = len(v.KeyConflicts)
	res.Attempts = st.Calls
	res.OK = v.OK()
}

func assertDelivered(res chaosResult, waitErr error) error {
	if res.Lost > 0 || res.KeyConflicts > 0 {
		return fmt.Errorf("%w: %s: %d lost, %d alerts under more than one idempotency key (%v)",
			errAssertion, res.Mode, res.Lost, res.KeyConflicts, waitErr)
	}
	return nil
}
