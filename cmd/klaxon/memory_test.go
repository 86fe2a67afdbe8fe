package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemWatch_ReleasesOnceWhenABurstEnds(t *testing.T) {
	const mb = 1 << 20
	w := &memWatch{quiet: 8 * mb, slack: 32 * mb}
	alloc := uint64(100 * mb)
	step := func(allocated, heap, live uint64) bool {
		alloc += allocated
		return w.observe(memSample{allocated: alloc, heap: heap, live: live})
	}
	require.False(t, w.observe(memSample{allocated: alloc, heap: 20 * mb, live: 10 * mb}), "the first sample only sets the baseline")
	require.False(t, step(1*mb, 20*mb, 10*mb), "quiet from the start: nothing to hand back")
	require.False(t, step(300*mb, 250*mb, 110*mb), "busy: never while alerts flow")
	require.False(t, step(200*mb, 260*mb, 120*mb))
	require.True(t, step(2*mb, 260*mb, 120*mb), "the first quiet interval after a burst releases")
	require.False(t, step(2*mb, 130*mb, 120*mb), "once per burst")
	require.False(t, step(1*mb, 130*mb, 120*mb))

	// A burst that leaves little slack is not worth a collection.
	require.False(t, step(50*mb, 140*mb, 120*mb))
	require.False(t, step(1*mb, 140*mb, 120*mb))
}

func TestReadMem_ReadsTheRuntime(t *testing.T) {
	s := readMem()
	require.NotZero(t, s.allocated)
	require.NotZero(t, s.heap)
	require.GreaterOrEqual(t, s.heap, s.live)
}
