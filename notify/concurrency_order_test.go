package notify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// A type defaulting to 16 (a webhook's) still runs 1 send at a time under a
// rate limit below 2/s; an explicit concurrency is taken as configured.
func TestDispatcher_SlowRateLimitRunsOneSendWhateverTheType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		configured int
		want       int
	}{{"type default 16, rate 1/s", 0, 1}, {"explicit 3, rate 1/s", 3, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			probe := &parallelProbe{own: 16, release: make(chan struct{})}
			b := setup(t, notify.ChannelConfig{Name: "ops", Channel: ownDefault{probe}, RateLimit: 1, Burst: 1, Concurrency: tc.configured})
			defer close(probe.release)
			for i := range 6 {
				b.enqueue(t, fmt.Sprintf("a%d", i), 1, alert.High, notify.EventActive, nil, "ops")
			}
			time.Sleep(1500 * time.Millisecond) // burst 1, then one more a second
			_, most := probe.counts()
			require.Equal(t, tc.want, most)
		})
	}
}

// orderProbe records the sequences each alert was sent, with jitter.
type orderProbe struct {
	mu   sync.Mutex
	seqs map[string][]int64
	busy map[string]bool
	bad  []string
	n    int
}

func (p *orderProbe) DefaultConcurrency() int { return 16 }

func (p *orderProbe) Send(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
	a := n.Alert()
	p.mu.Lock()
	if p.busy[a.ID] {
		p.bad = append(p.bad, "two sends at once for "+a.ID)
	}
	p.busy[a.ID] = true
	p.seqs[a.ID] = append(p.seqs[a.ID], a.Sequence)
	p.n++
	p.mu.Unlock()
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	p.mu.Lock()
	p.busy[a.ID] = false
	p.mu.Unlock()
	return notify.Receipt{StatusCode: 200}, nil
}

// With 16 sends at once, one alert's records still go one at a time, in
// sequence order, each once.
func TestDispatcher_PerAlertOrderWith16Sends(t *testing.T) {
	t.Parallel()
	p := &orderProbe{seqs: map[string][]int64{}, busy: map[string]bool{}}
	b := setup(t, notify.ChannelConfig{Name: "ops", Channel: p})
	evs := []notify.Event{notify.EventActive, notify.EventAcknowledged, notify.EventResolved}
	const alerts = 40
	for s := range evs {
		for i := range alerts {
			b.enqueue(t, fmt.Sprintf("a%d", i), int64(s+1), alert.High, evs[s], nil, "ops")
		}
	}
	require.Eventually(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.n >= alerts*len(evs) }, 20*time.Second, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	require.Empty(t, p.bad)
	for id, s := range p.seqs {
		require.Equal(t, []int64{1, 2, 3}, s, id)
	}
}
