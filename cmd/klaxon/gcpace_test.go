package main

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGCPacer_LimitKeepsAFloorThenLeanThenGoDefault(t *testing.T) {
	const mib = 1 << 20
	p := defaultPacer
	require.EqualValues(t, 48*mib, p.limit(0, 0), "an empty heap may still grow to the floor")
	require.EqualValues(t, 48*mib, p.limit(20*mib, 8*mib), "under the floor, Go's own pacing decides")
	require.EqualValues(t, 39*mib+10*mib, p.limit(30*mib, 10*mib), "a small heap keeps 30 % headroom")
	require.EqualValues(t, 52*mib+8*mib, p.limit(40*mib, 8*mib))
	require.EqualValues(t, 160*mib+8*mib, p.limit(80*mib, 8*mib), "a large heap gets Go's default headroom")
	require.EqualValues(t, 400*mib, p.limit(200*mib, 0))
	require.InDelta(t, 0.65, p.ratio(60*mib), 1e-9, "half way, half way back to the default")

	// The limit never falls as the heap grows, so a growing heap never
	// meets a lower ceiling than the one before.
	var last int64
	for live := uint64(0); live < 300*mib; live += mib / 4 {
		l := p.limit(live, 6*mib)
		require.GreaterOrEqual(t, l, last, "live %d", live)
		require.Greater(t, uint64(l), live+live/4, "always headroom over the live heap: no collection storm")
		last = l
	}
}

func TestPaceGC_SetsTheLimitAfterEachCollectionAndRestoresIt(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		if _, set := os.LookupEnv(env); set {
			t.Skipf("%s is set in the environment, so paceGC leaves the collector alone", env)
		}
	}
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	p := gcPacer{floor: 1 << 40, lean: 0.3, leanUpTo: 1 << 41, fullFrom: 1 << 42}
	ctx, cancel := context.WithCancel(context.Background())
	paceGC(ctx, p)
	require.EqualValues(t, int64(1)<<40, debug.SetMemoryLimit(-1), "set at once")

	// A collection runs the hook again; a changed pacer shows it ran.
	debug.SetMemoryLimit(before)
	require.Eventually(t, func() bool {
		runtime.GC()
		return debug.SetMemoryLimit(-1) == int64(1)<<40
	}, 5*time.Second, 10*time.Millisecond, "the hook sets the limit after a collection")

	cancel()
	require.Eventually(t, func() bool { return debug.SetMemoryLimit(-1) == before }, 5*time.Second, time.Millisecond,
		"the limit from before comes back when serve stops")
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	require.Equal(t, before, debug.SetMemoryLimit(-1), "no hook runs after stop")
}

func TestPaceGC_LeavesAnOperatorsGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "100")
	before := debug.SetMemoryLimit(-1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	paceGC(ctx, gcPacer{floor: 1 << 40})
	runtime.GC()
	require.Equal(t, before, debug.SetMemoryLimit(-1))
}
