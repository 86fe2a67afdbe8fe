package metric

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Kind is what a series records.
type Kind uint8

// Series kinds.
const (
	// KindCounter only goes up; windows see its increase.
	KindCounter Kind = iota + 1
	// KindGauge is a value that is set; windows aggregate the values set
	// (pushed samples and provider metrics are gauges).
	KindGauge
	// KindHistogram records observations (durations, sizes); windows
	// aggregate them and answer percentiles.
	KindHistogram
)

// String returns "counter", "gauge" or "histogram".
func (k Kind) String() string {
	switch k {
	case KindCounter:
		return "counter"
	case KindGauge:
		return "gauge"
	case KindHistogram:
		return "histogram"
	}
	return "unknown"
}

// MarshalText renders the kind by name, for JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// series is one name + label set. Recording touches only atomics; mu is taken
// when a slot must be recycled for a newer interval (once per bucket interval
// per series) and for pushed samples.
type series struct {
	name   string
	labels alert.Labels
	kind   Kind
	clk    *clock
	// carry marks gauges made with Registry.Gauge: Collect re-records their
	// current value so a gauge that rarely changes still has samples.
	carry bool

	has  atomic.Bool   // a value was recorded
	last atomic.Uint64 // float64 bits of the latest gauge/histogram value
	// retired is the counter increase that left the coarse ring (float64
	// bits), so the total stays right.
	retired atomic.Uint64

	mu sync.Mutex
	// lastAt orders pushed samples: an older push does not replace last.
	lastAt int64 // guarded by mu

	fine   [fineSlots]bucket
	coarse []bucket
	dist   []distBucket // nil unless the series answers percentiles
}

func newSeries(name string, labels alert.Labels, kind Kind, withDist bool, coarseSlots int, clk *clock) *series {
	s := &series{name: name, labels: labels, kind: kind, clk: clk, coarse: make([]bucket, coarseSlots)}
	if withDist {
		s.dist = make([]distBucket, coarseSlots)
	}
	return s
}

// fineBucket returns the bucket a sample at unix second sec goes to, or nil
// when the sample is older than everything the series keeps.
func (s *series) fineBucket(sec int64) *bucket {
	e := sec / fineRes
	b := &s.fine[e%fineSlots]
	if b.epoch.Load() == e {
		return b
	}
	return s.rotate(b, e, sec)
}

// rotate is fineBucket's slow path: recycle the slot for interval e (folding
// its content into the coarse ring first), or, when the slot already holds a
// newer interval, send the late sample straight to the coarse ring.
func (s *series) rotate(b *bucket, e, sec int64) *bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := b.epoch.Load()
	switch {
	case cur == e:
		return b
	case cur < e:
		if cur != 0 {
			s.foldLocked(b, cur)
		}
		b.reset(e)
		return b
	}
	return s.coarseLocked(sec)
}

// foldLocked moves fine bucket b (interval cur) into the coarse ring. Must
// hold mu.
func (s *series) foldLocked(b *bucket, cur int64) {
	if b.n.Load() == 0 && b.inc.Load() == 0 && b.sum.Load() == 0 {
		return
	}
	if c := s.coarseLocked(cur * fineRes); c != nil {
		c.merge(b)
		return
	}
	if s.kind == KindCounter {
		addFloat(&s.retired, b.increase())
	}
}

// coarseLocked returns the coarse bucket of unix second sec, recycling its
// slot if it holds an older minute, or nil if the slot holds a newer one.
// Must hold mu.
func (s *series) coarseLocked(sec int64) *bucket {
	e := sec / coarseRes
	c := &s.coarse[e%int64(len(s.coarse))]
	cur := c.epoch.Load()
	switch {
	case cur == e:
		return c
	case cur < e:
		if cur != 0 && s.kind == KindCounter {
			addFloat(&s.retired, c.increase())
		}
		c.reset(e)
		return c
	}
	return nil
}

// distBucket returns the distribution bucket of unix second sec, or nil when
// the sample is older than the ring.
func (s *series) distBucket(sec int64) *distBucket {
	e := sec / distRes
	d := &s.dist[e%int64(len(s.dist))]
	if d.epoch.Load() == e {
		return d
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := d.epoch.Load()
	switch {
	case cur == e:
		return d
	case cur < e:
		d.reset(e)
		return d
	}
	return nil
}

// addAt records a counter increment at unix second sec.
func (s *series) addAt(v float64, sec int64) {
	if b := s.fineBucket(sec); b != nil {
		b.add(v)
		return
	}
	addFloat(&s.retired, v)
}

// observeAt records a gauge or histogram sample at unix second sec.
func (s *series) observeAt(v float64, sec int64) {
	if b := s.fineBucket(sec); b != nil {
		b.observe(v)
	}
	if s.dist != nil {
		if d := s.distBucket(sec); d != nil {
			d.observe(v)
		}
	}
}

func (s *series) setLast(v float64) {
	s.last.Store(math.Float64bits(v))
	if !s.has.Load() {
		s.has.Store(true)
	}
}

// push records a pushed sample at time at; an older push than the latest
// does not change the last value.
func (s *series) push(v float64, at time.Time) {
	s.mu.Lock()
	if ns := at.UnixNano(); ns >= s.lastAt {
		s.lastAt = ns
		s.setLast(v)
	}
	s.mu.Unlock()
	s.observeAt(v, at.Unix())
}

// total is a counter's value: every increase it ever had.
func (s *series) total() float64 {
	t := math.Float64frombits(s.retired.Load())
	for i := range s.coarse {
		t += s.coarse[i].increase()
	}
	for i := range s.fine {
		t += s.fine[i].increase()
	}
	return t
}

// window reduces the buckets of both rings inside sp.
func (s *series) window(sp span) agg {
	a := newAgg()
	scanRing(s.fine[:], fineRes, sp, &a)
	// Both rings are scanned: data reaches the coarse ring only when its
	// fine slot is reused, and each sample lives in exactly one of them.
	scanRing(s.coarse, coarseRes, sp, &a)
	return a
}

// Counter is a handle on a counter series. Its methods are safe for
// concurrent use, lock-free and allocation-free.
type Counter struct{ s *series }

// Inc adds one.
func (c *Counter) Inc() {
	c.s.fineBucket(c.s.clk.sec()).inc.Add(1)
}

// Add adds v; negative, NaN and infinite values are ignored (a counter only
// goes up).
func (c *Counter) Add(v float64) {
	if !(v > 0) || math.IsInf(v, 1) {
		return
	}
	c.s.addAt(v, c.s.clk.sec())
}

// Value returns the counter's total.
func (c *Counter) Value() float64 { return c.s.total() }

// Gauge is a handle on a gauge series. Its methods are safe for concurrent
// use and lock-free; every Set or Add is a sample of the gauge's windows.
type Gauge struct{ s *series }

// Set sets the gauge to v. NaN and infinite values are ignored.
func (g *Gauge) Set(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	g.s.setLast(v)
	g.s.observeAt(v, g.s.clk.sec())
}

// Add adds d (which may be negative) to the gauge.
func (g *Gauge) Add(d float64) {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return
	}
	s := g.s
	var v float64
	for {
		old := s.last.Load()
		v = math.Float64frombits(old) + d
		if s.last.CompareAndSwap(old, math.Float64bits(v)) {
			break
		}
	}
	if !s.has.Load() {
		s.has.Store(true)
	}
	s.observeAt(v, s.clk.sec())
}

// Value returns the gauge's current value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.s.last.Load()) }

// Histogram is a handle on a histogram series. Observe is safe for
// concurrent use, lock-free and allocation-free once the series has seen
// values of the same magnitude in the current minute.
type Histogram struct{ s *series }

// Observe records v. NaN and infinite values are ignored.
func (h *Histogram) Observe(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	h.s.setLast(v)
	h.s.observeAt(v, h.s.clk.sec())
}
