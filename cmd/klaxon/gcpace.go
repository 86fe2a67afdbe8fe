package main

import (
	"context"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The Go collector lets the heap grow to twice the live data (GOGC=100)
// before it collects again. For a daemon whose live data is mostly the
// alerts it holds, that headroom is most of a burst's footprint: 20,000
// alerts arriving at once peaked at 92-96 MB RSS, about 30 MB of it heap
// nobody used. A flat lower GOGC trims the peak but collects more often at
// every size, and a large heap pays for each collection in proportion to
// its size (100,000 alerts with GOGC=50: 35 % more CPU).
//
// So `klaxon serve` sets a soft memory limit again after each collection
// (the runtime's own mechanism, GOMEMLIMIT): Go memory may always reach a
// floor of 48 MiB, where the default pacing applies; above it a heap of up
// to 40 MiB live data (about 30,000 open alerts) keeps 30 % headroom, and
// from there the headroom grows back to Go's default, reached at 80 MiB
// live, so a large heap is collected no more often than Go would. An
// operator's own GOGC or GOMEMLIMIT in the environment wins: klaxon then
// leaves the collector alone.

// gcPacer computes the soft memory limit that puts the next collection
// at the goal.
type gcPacer struct {
	// floor is the Go memory always allowed: below it the runtime paces
	// as usual (GOGC), so a small heap is not collected more often.
	floor uint64
	// lean is the headroom over the live heap, as a share of it, up to a
	// live heap of leanUpTo; from there it grows linearly to Go's own
	// share (1, GOGC=100) at fullFrom and stays there.
	lean               float64
	leanUpTo, fullFrom uint64
}

// defaultPacer is what `klaxon serve` runs with.
var defaultPacer = gcPacer{floor: 48 << 20, lean: 0.3, leanUpTo: 40 << 20, fullFrom: 80 << 20}

// ratio is the headroom share for a live heap of live bytes.
func (p gcPacer) ratio(live uint64) float64 {
	switch {
	case live <= p.leanUpTo:
		return p.lean
	case live >= p.fullFrom:
		return 1
	}
	f := float64(live-p.leanUpTo) / float64(p.fullFrom-p.leanUpTo)
	return p.lean + f*(1-p.lean)
}

// limit returns the memory limit for a live heap of live bytes when the
// runtime's other memory (stacks, metadata: everything the limit counts
// that is not heap) takes other bytes.
func (p gcPacer) limit(live, other uint64) int64 {
	want := uint64(float64(live)*(1+p.ratio(live))) + other
	return int64(min(max(want, p.floor), math.MaxInt64))
}

var paceMetrics = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
}

// paceGC keeps the soft memory limit on p's goals until ctx ends, when
// the limit from before comes back. It does nothing when the operator set
// GOGC or GOMEMLIMIT in the environment.
func paceGC(ctx context.Context, p gcPacer) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		if _, set := os.LookupEnv(env); set {
			return
		}
	}
	g := &gcPacing{p: p, before: debug.SetMemoryLimit(-1)}
	for _, name := range paceMetrics {
		g.sample = append(g.sample, metrics.Sample{Name: name})
	}
	g.after()
	onEveryGC(g.after)
	context.AfterFunc(ctx, g.stop)
}

// gcPacing is paceGC's state; mu orders the finalizer goroutine's updates
// against stop.
type gcPacing struct {
	p      gcPacer
	before int64

	mu      sync.Mutex
	stopped bool
	sample  []metrics.Sample
}

// after sets the limit from the collection that just ended; false once
// stopped, which ends the hook.
func (g *gcPacing) after() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	metrics.Read(g.sample)
	var v [6]uint64
	for i := range g.sample {
		if g.sample[i].Value.Kind() != metrics.KindUint64 {
			return false
		}
		v[i] = g.sample[i].Value.Uint64()
	}
	live, total, released, heap := v[0], v[1], v[2], v[3]+v[4]+v[5]
	other := total - min(total, released+heap)
	debug.SetMemoryLimit(g.p.limit(live, other))
	return true
}

func (g *gcPacing) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	debug.SetMemoryLimit(g.before)
}

// gcSentinel is an object nothing refers to: its finalizer runs after
// each collection, which is how a program learns that one happened
// without polling (a poll would wake an idle daemon).
type gcSentinel struct{ fn func() bool }

// onEveryGC calls fn on the finalizer goroutine after each collection
// until fn returns false.
func onEveryGC(fn func() bool) {
	runtime.SetFinalizer(&gcSentinel{fn: fn}, rearm)
}

func rearm(s *gcSentinel) {
	if s.fn() {
		// Setting the finalizer again keeps the sentinel for one more
		// cycle: it is found unreachable at the next collection.
		runtime.SetFinalizer(s, rearm)
	}
}
