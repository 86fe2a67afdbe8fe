package lifecycle

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
)

// A caller whose post an earlier group committed returns while the leader
// goes on to its own group: the leader holds the lock for one group at a
// time, so it does not keep that caller (or Tick, or an acknowledgement)
// waiting for groups that are not theirs.
func TestPush_CommittedCallerReturnsBetweenTheLeadersGroups(t *testing.T) {
	m, gs := groupManager(t, nil)
	ctx := context.Background()

	m.mu.Lock() // another m.mu holder (a Tick, a previous leader)
	m.pushMu.Lock()
	m.pushQ = append(m.pushQ, postOf("f", 300)) // a post whose caller never comes
	m.pushMu.Unlock()

	bDone := make(chan struct{})
	go func() {
		defer close(bDone)
		_, err := m.Push(ctx, postOf("b", 100).in) // F+B fit one group
		if err != nil {
			panic(err)
		}
	}()
	require.Eventually(t, func() bool {
		m.pushMu.Lock()
		defer m.pushMu.Unlock()
		return len(m.pushQ) == 2
	}, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // B parks in lead's m.mu.Lock

	// A arrives last (its post does not fit with F+B) but gets the lock.
	a := postOf("a", 300)
	m.pushMu.Lock()
	m.pushQ = append(m.pushQ, a)
	m.pushMu.Unlock()

	var bReturnedBeforeSecondGroup atomic.Bool
	gs.at = gs.applies.Load() + 2 // group 1 = F+B, group 2 = A
	gs.hook = func() {
		select {
		case <-bDone:
			bReturnedBeforeSecondGroup.Store(true)
		case <-time.After(2 * time.Second):
		}
	}
	m.mu.Unlock()
	m.lead(ctx, a)
	<-a.done
	require.NoError(t, a.err)
	<-bDone
	require.True(t, bReturnedBeforeSecondGroup.Load(),
		"B's post committed in group 1, yet B's Push did not return while the leader committed group 2")
}

// Many concurrent posters of varied sizes (including > maxGroupAlerts and
// empty posts), each posting firing then resolving: nobody waits forever,
// each post commits once, and arrival order holds per poster.
func TestPush_ConcurrentPostersOfEverySize(t *testing.T) {
	m, cs := groupManager(t, nil)
	ctx := context.Background()

	sizes := []int{0, 1, 7, 120, 250, 499, 500, 501, 650}
	const posters, rounds = 16, 2
	var wantOpen atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, posters*rounds*4)
	for g := range posters {
		wg.Go(func() {
			for r := range rounds {
				n := sizes[(g*rounds+r)%len(sizes)]
				in := make([]Pushed, n)
				for i := range in {
					in[i] = Pushed{Labels: alert.Labels{"alertname": fmt.Sprintf("p%d-r%d-%d", g, r, i)}}
				}
				res, err := m.Push(ctx, in)
				if err != nil || len(res) != n {
					errs <- fmt.Errorf("firing p%d r%d: %v (%d results of %d)", g, r, err, len(res), n)
					return
				}
				for _, x := range res {
					if x.State != alert.StateActive {
						errs <- fmt.Errorf("p%d r%d: firing landed %s", g, r, x.State)
					}
				}
				// An invalid post fails before it queues.
				if _, err := m.Push(ctx, []Pushed{{}}); err == nil {
					errs <- fmt.Errorf("empty labels accepted")
				}
				var res2 []Pushed
				for i := 0; i < n; i += 2 {
					res2 = append(res2, Pushed{Labels: in[i].Labels, Resolved: true})
				}
				out, err := m.Push(ctx, res2)
				if err != nil || len(out) != len(res2) {
					errs <- fmt.Errorf("resolve p%d r%d: %v", g, r, err)
					return
				}
				for j, x := range out {
					if x.State != alert.StateResolved || x.ID != res[2*j].ID {
						errs <- fmt.Errorf("p%d r%d: resolve %d landed %+v, fired as %s", g, r, j, x, res[2*j].ID)
						break
					}
				}
				wantOpen.Add(int64(n - len(res2)))
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("posters still waiting after 60s:\n%s", buf[:runtime.Stack(buf, true)])
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Len(t, m.Open(), int(wantOpen.Load()))
	require.Empty(t, m.pushQ)
	require.LessOrEqual(t, cs.most.Load(), int64(650), "one post over the bound goes alone")
}

// A group that panics under one leader does not strand a live caller queued
// behind that leader's post: it leads its own group next and succeeds.
func TestPush_PanicDoesNotStrandALaterCaller(t *testing.T) {
	m, _ := groupManager(t, explodeOnBoom)
	ctx := context.Background()
	bad := postOf("bad", maxGroupAlerts)
	bad.in[0].Labels["boom"] = "1"
	a := postOf("a", 1)
	m.pushQ = append(m.pushQ, bad, a)
	m.leading <- struct{}{} // the test's caller leads first
	var bErr error
	bDone := make(chan struct{})
	go func() {
		defer close(bDone)
		_, bErr = m.Push(ctx, postOf("b", 1).in)
	}()
	require.Eventually(t, func() bool { m.pushMu.Lock(); defer m.pushMu.Unlock(); return len(m.pushQ) == 3 }, 5*time.Second, time.Millisecond)
	func() {
		defer func() { require.NotNil(t, recover(), "the leader's call panics") }()
		m.leadOne(ctx, a) // gives the lead back, panic or not
	}()
	select {
	case <-bDone:
	case <-time.After(10 * time.Second):
		t.Fatal("B waits forever after A's group panicked")
	}
	require.NoError(t, bErr)
	require.ErrorContains(t, a.err, "template exploded")
	require.Len(t, m.Open(), 1)
}
