package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A burst leaves the Go heap at the size it grew to: up to twice the live
// data with the default GOGC, kept until the next collection, and a daemon
// that only holds alerts may not collect for minutes. After 100,000 alerts
// arrive at once that is about 150 MB nobody uses. So `klaxon serve` hands
// it back once the process is quiet again: one forced collection per burst,
// never while alerts are flowing.

// memSample is what the release decision reads from runtime/metrics.
type memSample struct {
	allocated uint64 // bytes allocated since the process started
	heap      uint64 // heap memory held from the OS: objects, unused and free
	live      uint64 // live heap bytes at the last collection
}

// memWatch decides when to release: after a busy interval, on the first
// quiet one, if the heap holds much more than the live data.
type memWatch struct {
	// quiet is the most a quiet interval allocates.
	quiet uint64
	// slack is how much more than the live data the heap must hold at
	// least (and half the live data when that is more).
	slack uint64

	last memSample
	busy bool
}

// observe takes the sample at the end of an interval and says whether to
// release now.
func (w *memWatch) observe(s memSample) bool {
	allocated := s.allocated - w.last.allocated
	first := w.last.allocated == 0
	w.last = s
	if first {
		return false
	}
	if allocated > w.quiet {
		w.busy = true
		return false
	}
	if !w.busy {
		return false
	}
	w.busy = false
	// The slack grows with the live data, so a trickle of small bursts
	// cannot force collections much more often than the runtime's own.
	return s.heap > s.live+max(w.slack, s.live/2)
}

var memMetrics = []string{
	"/gc/heap/allocs:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/gc/heap/live:bytes",
}

func readMem() memSample {
	ms := make([]metrics.Sample, len(memMetrics))
	for i, name := range memMetrics {
		ms[i].Name = name
	}
	metrics.Read(ms)
	v := func(i int) uint64 {
		if ms[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return ms[i].Value.Uint64()
	}
	return memSample{allocated: v(0), heap: v(1) + v(2) + v(3), live: v(4)}
}

// releaseAfterBursts checks every interval until ctx ends.
func releaseAfterBursts(ctx context.Context, every time.Duration) {
	w := &memWatch{quiet: 2 << 20, slack: 16 << 20}
	w.observe(readMem()) // the baseline
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if w.observe(readMem()) {
			debug.FreeOSMemory()
		}
	}
}
