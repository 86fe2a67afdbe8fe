package klaxontest

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func post(t *testing.T, url, webhookID, typ, id string) int {
	t.Helper()
	body := `{"type":"` + typ + `","idempotency_key":"` + webhookID + `","alerts":[{"id":"a-` + id + `","labels":{"id":"` + id + `"}}]}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("webhook-id", webhookID)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestReceiverCountsDuplicatesAndKeyConflicts(t *testing.T) {
	t.Parallel()
	r, err := NewReceiver(ReceiverConfig{KeepCalls: true})
	require.NoError(t, err)
	defer r.Close()

	require.Equal(t, 200, post(t, r.URL(), "k1", TypeActive, "x"))
	require.Equal(t, 200, post(t, r.URL(), "k1", TypeActive, "x")) // duplicate, same key
	require.Equal(t, 200, post(t, r.URL(), "k2", TypeActive, "y"))
	require.Equal(t, 200, post(t, r.URL(), "k3", TypeActive, "y")) // duplicate under another key
	require.Equal(t, 200, post(t, r.URL(), "k4", "alert.resolved", "x"))

	v := r.Check(TypeActive, []string{"x", "y", "z"})
	require.Equal(t, []string{"z"}, v.Missing)
	require.Equal(t, []string{"y"}, v.KeyConflicts)
	require.Equal(t, 2, v.Duplicates)
	require.False(t, v.OK())
	st := r.Stats()
	require.Equal(t, int64(5), st.Calls)
	require.Equal(t, 5, st.Accepted)
	require.Equal(t, 1, st.Duplicates, "only k1 came twice")
	require.Equal(t, map[string]int{"k1": 2}, r.Keys(TypeActive, "x"))
	require.Len(t, r.Deliveries("x"), 3)
	require.Equal(t, 2, r.Count(TypeActive))

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, r.Wait(ctx, TypeActive, 3), ErrWaitTimeout)
	require.NoError(t, r.Wait(t.Context(), TypeActive, 2))
}

func TestRetryAfterOnceAndAlways(t *testing.T) {
	t.Parallel()
	f := RetryAfterOnce(2)
	require.Equal(t, Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"}, f(&Call{WebhookID: "a"}))
	require.Equal(t, Fault{}, f(&Call{WebhookID: "a"}), "the retry is accepted")
	require.Equal(t, http.StatusTooManyRequests, f(&Call{WebhookID: "b"}).Status, "per webhook-id")
	require.Equal(t, Fault{Status: 400}, Always(400)(&Call{}))

	r, err := NewReceiver(ReceiverConfig{Fault: RetryAfterOnce(3), KeepCalls: true})
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, http.StatusTooManyRequests, post(t, r.URL(), "k", TypeActive, "x"))
	require.Zero(t, r.Count(TypeActive), "a 429 is not a delivery")
	require.Equal(t, 200, post(t, r.URL(), "k", TypeActive, "x"))
	calls := r.Calls()
	require.Len(t, calls, 2)
	require.Equal(t, []string{"x"}, calls[0].IDs)
	require.Equal(t, http.StatusTooManyRequests, calls[0].Status)
}

func TestFlakyCapsRuns(t *testing.T) {
	t.Parallel()
	f := Flaky(1, time.Second, 2) // always fail, but never three in a row
	var got []bool
	for range 9 {
		ft := f(&Call{})
		got = append(got, ft != Fault{})
	}
	require.Equal(t, []bool{true, true, false, true, true, false, true, true, false}, got)
	none := Flaky(0, time.Second, 0)
	require.Equal(t, Fault{}, none(&Call{}))
}

func TestReadProcStat(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	s, err := ReadProcStat(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, s.PeakRSS)
	require.GreaterOrEqual(t, s.PeakRSS, s.RSS)
}
