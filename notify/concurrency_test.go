package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// parallelProbe holds every send until released and records how many ran
// at once.
type parallelProbe struct {
	own      int // DefaultConcurrency's answer when wrapped by ownDefault
	mu       sync.Mutex
	inFlight int
	most     int
	release  chan struct{}
}

func (p *parallelProbe) Send(ctx context.Context, _ *notify.Notification) (notify.Receipt, error) {
	p.mu.Lock()
	p.inFlight++
	p.most = max(p.most, p.inFlight)
	p.mu.Unlock()
	defer func() { p.mu.Lock(); p.inFlight--; p.mu.Unlock() }()
	select {
	case <-p.release:
		return notify.Receipt{StatusCode: 200}, nil
	case <-ctx.Done():
		return notify.Receipt{}, ctx.Err()
	}
}

func (p *parallelProbe) counts() (inFlight, most int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight, p.most
}

// ownDefault is a probe that names its own default concurrency.
type ownDefault struct{ *parallelProbe }

func (o ownDefault) DefaultConcurrency() int { return o.own }

// A channel runs as many sends at once as its configuration says, else as
// its type says (notify.Concurrent), else 8; never more, whatever waits.
func TestDispatcher_ConcurrencyDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		own        int // 0: the channel does not implement Concurrent
		configured int
		want       int
	}{
		{name: "dispatcher default", want: 8},
		{name: "channel type's default", own: 3, want: 3},
		{name: "configuration over the type's", own: 3, configured: 5, want: 5},
		{name: "configuration over the dispatcher's", configured: 11, want: 11},
		{name: "a type answering 0 keeps the dispatcher's", own: -1, want: 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			probe := &parallelProbe{own: max(tc.own, 0), release: make(chan struct{})}
			var ch notify.Channel = probe
			if tc.own != 0 {
				ch = ownDefault{probe}
			}
			b := setup(t, notify.ChannelConfig{Name: "ops", Channel: ch, Concurrency: tc.configured})
			defer close(probe.release)
			for i := range 40 {
				b.enqueue(t, "a"+string(rune('A'+i)), 1, alert.High, notify.EventActive, nil, "ops")
			}
			require.Eventually(t, func() bool { n, _ := probe.counts(); return n == tc.want },
				10*time.Second, 2*time.Millisecond, "sends in flight never reached %d", tc.want)
			time.Sleep(100 * time.Millisecond)
			_, most := probe.counts()
			require.Equal(t, tc.want, most, "more sends ran at once than the channel allows")
		})
	}
}
