package metric

import (
	"math"
	"sync/atomic"
)

// Ring geometry. See doc.go for the reasoning behind these numbers.
const (
	fineRes   = 10 // seconds per fine bucket
	fineSlots = 48 // 8 minutes of fine buckets
	coarseRes = 60 // seconds per coarse bucket
)

var (
	posInfBits = math.Float64bits(math.Inf(1))
	negInfBits = math.Float64bits(math.Inf(-1))
)

// bucket aggregates the samples of one time interval. Every field is updated
// with atomics so recording never takes a lock; a bucket is only reset (under
// the series mutex) when its slot is reused for a newer interval.
//
// For counters, inc holds integral increments and sum the rest, so Inc is a
// single atomic add. For gauges and histograms, n counts samples and sum, min
// and max aggregate them.
type bucket struct {
	epoch atomic.Int64 // interval index: unix seconds / resolution; 0 = empty
	n     atomic.Uint64
	inc   atomic.Uint64
	sum   atomic.Uint64 // float64 bits
	min   atomic.Uint64 // float64 bits
	max   atomic.Uint64 // float64 bits
}

// reset empties b for interval e. The caller holds the series mutex. The epoch
// is stored last so that fast-path writers, which only write when the epoch
// matches theirs, never see a half-reset bucket.
func (b *bucket) reset(e int64) {
	b.n.Store(0)
	b.inc.Store(0)
	b.sum.Store(0)
	b.min.Store(posInfBits)
	b.max.Store(negInfBits)
	b.epoch.Store(e)
}

// observe records one gauge or histogram sample.
func (b *bucket) observe(v float64) {
	b.n.Add(1)
	addFloat(&b.sum, v)
	minFloat(&b.min, v)
	maxFloat(&b.max, v)
}

// add records a counter increment.
func (b *bucket) add(v float64) {
	if v == math.Trunc(v) && v < 1<<53 {
		b.inc.Add(uint64(v))
		return
	}
	addFloat(&b.sum, v)
}

// merge adds o's content into b (a coarse bucket). The caller holds the series
// mutex.
func (b *bucket) merge(o *bucket) {
	b.n.Add(o.n.Load())
	b.inc.Add(o.inc.Load())
	addFloat(&b.sum, math.Float64frombits(o.sum.Load()))
	minFloat(&b.min, math.Float64frombits(o.min.Load()))
	maxFloat(&b.max, math.Float64frombits(o.max.Load()))
}

// increase is a counter bucket's total increment.
func (b *bucket) increase() float64 {
	return float64(b.inc.Load()) + math.Float64frombits(b.sum.Load())
}

func addFloat(p *atomic.Uint64, v float64) {
	for {
		old := p.Load()
		if p.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func minFloat(p *atomic.Uint64, v float64) {
	for {
		old := p.Load()
		if !(v < math.Float64frombits(old)) || p.CompareAndSwap(old, math.Float64bits(v)) {
			return
		}
	}
}

func maxFloat(p *atomic.Uint64, v float64) {
	for {
		old := p.Load()
		if !(v > math.Float64frombits(old)) || p.CompareAndSwap(old, math.Float64bits(v)) {
			return
		}
	}
}

// agg is the reduction of the buckets inside a window.
type agg struct {
	n        uint64
	inc      uint64
	sum      float64
	min, max float64
}

func newAgg() agg { return agg{min: math.Inf(1), max: math.Inf(-1)} }

func (a *agg) add(b *bucket) {
	a.n += b.n.Load()
	a.inc += b.inc.Load()
	a.sum += math.Float64frombits(b.sum.Load())
	if v := math.Float64frombits(b.min.Load()); v < a.min {
		a.min = v
	}
	if v := math.Float64frombits(b.max.Load()); v > a.max {
		a.max = v
	}
}

// span is a query window in whole seconds: (lo, hi].
type span struct{ lo, hi int64 }

func newSpan(now int64, windowSec int64) span {
	return span{lo: now - windowSec, hi: now}
}

// includes reports whether the bucket of interval e at resolution res counts
// in the window: its start is not after hi and its midpoint is after lo. The
// window's edges are therefore rounded to the nearest bucket boundary.
func (s span) includes(e, res int64) bool {
	start := e * res
	return e != 0 && start <= s.hi && 2*start+res > 2*s.lo
}

// scanRing folds every bucket of ring (resolution res) that falls in the
// window into a. When the window covers fewer intervals than the ring has
// slots it visits only those intervals; otherwise it checks every slot, which
// also finds data that was never folded because the series went idle.
func scanRing(ring []bucket, res int64, s span, a *agg) {
	n := int64(len(ring))
	eLo, eHi := s.lo/res-1, s.hi/res
	if eLo < 1 {
		eLo = 1
	}
	if eHi-eLo+1 < n {
		for e := eLo; e <= eHi; e++ {
			b := &ring[e%n]
			if b.epoch.Load() == e && s.includes(e, res) {
				a.add(b)
			}
		}
		return
	}
	for i := range ring {
		b := &ring[i]
		if s.includes(b.epoch.Load(), res) {
			a.add(b)
		}
	}
}
