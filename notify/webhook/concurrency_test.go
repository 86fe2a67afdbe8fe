package webhook

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

var _ notify.Concurrent = (*Channel)(nil)

// The dispatcher runs DefaultConcurrency sends at once to a webhook, and
// up to config.MaxConcurrency when configured; the channel keeps a
// connection for each, so a second round of parallel sends opens none.
func TestChannel_KeepsAConnectionPerParallelSend(t *testing.T) {
	t.Parallel()
	ch, err := New("ops", Config{URL: secret.New("http://127.0.0.1:1/hook")})
	require.NoError(t, err)
	require.Equal(t, 16, ch.DefaultConcurrency())
	for _, n := range []int{ch.DefaultConcurrency(), 128} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			requireConnectionPerSend(t, n)
		})
	}
}

func requireConnectionPerSend(t *testing.T, n int) {
	var conns atomic.Int64
	arrived := make(chan struct{}, n)
	proceed := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-proceed
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ch, err := New("ops", Config{URL: secret.New(srv.URL + "/hook")})
	require.NoError(t, err)

	round := func() {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				_, err := ch.Send(t.Context(), activeNotification())
				errs <- err
			})
		}
		for range n { // all in flight at once, each on its own connection
			<-arrived
		}
		for range n {
			proceed <- struct{}{}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	round()
	require.EqualValues(t, n, conns.Load())
	round()
	require.EqualValues(t, n, conns.Load(), "the second round opened new connections: idle ones were dropped")
}
