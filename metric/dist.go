package metric

import (
	"math"
	"sync"
	"sync/atomic"
)

// Log-linear histogram geometry: every power of two between 2^distMinExp and
// 2^(distMaxExp+1) is cut into distSub equal bins, so a bin's width is at most
// 1/32 of its lower bound and its midpoint is within 1/64 (1.6%) of any value
// in it. Magnitudes below 2^distMinExp count as zero; magnitudes from
// 2^(distMaxExp+1) up fall into the last bin. Bins are allocated lazily in
// chunks of two octaves, so a histogram only pays for the ranges it sees.
const (
	distSub       = 32
	distSubBits   = 5
	distMinExp    = -16 // 1.5e-5
	distMaxExp    = 31  // 2^32 = 4.3e9
	distOctaves   = distMaxExp - distMinExp + 1
	distChunkOct  = 2
	distChunkBins = distSub * distChunkOct
	distChunks    = distOctaves / distChunkOct // per sign
	distRes       = 60                         // seconds per distribution bucket
)

type distChunk [distChunkBins]atomic.Uint32

// distBucket is the value distribution of one minute.
type distBucket struct {
	epoch  atomic.Int64
	zero   atomic.Uint64
	chunks [2 * distChunks]atomic.Pointer[distChunk] // positives, then negatives
}

// reset empties d for interval e; the caller holds the series mutex.
func (d *distBucket) reset(e int64) {
	d.zero.Store(0)
	for i := range d.chunks {
		if c := d.chunks[i].Load(); c != nil {
			for j := range c {
				c[j].Store(0)
			}
		}
	}
	d.epoch.Store(e)
}

// distIndex maps v to (chunk, bin); chunk -1 means the zero bin.
func distIndex(v float64) (int, int) {
	neg := 0
	if v < 0 {
		v = -v
		neg = distChunks
	}
	bits := math.Float64bits(v)
	exp := int(bits>>52&0x7ff) - 1023
	if exp < distMinExp || v != v {
		return -1, 0
	}
	sub := int(bits >> (52 - distSubBits) & (distSub - 1))
	if exp > distMaxExp {
		exp, sub = distMaxExp, distSub-1
	}
	o := exp - distMinExp
	return neg + o/distChunkOct, (o%distChunkOct)*distSub + sub
}

// distValue is the midpoint of a bin.
func distValue(chunk, bin int) float64 {
	sign := 1.0
	if chunk >= distChunks {
		sign, chunk = -1, chunk-distChunks
	}
	o := chunk*distChunkOct + bin/distSub
	sub := bin % distSub
	return sign * math.Ldexp(1+(float64(sub)+0.5)/distSub, o+distMinExp)
}

func (d *distBucket) observe(v float64) {
	c, i := distIndex(v)
	if c < 0 {
		d.zero.Add(1)
		return
	}
	p := d.chunks[c].Load()
	if p == nil {
		// Allocated once per chunk and slot for the life of the series: a
		// reset zeroes chunks instead of dropping them.
		p = new(distChunk)
		if !d.chunks[c].CompareAndSwap(nil, p) {
			p = d.chunks[c].Load()
		}
	}
	p[i].Add(1)
}

// distAgg sums the distributions of the buckets in a window.
type distAgg struct {
	zero  uint64
	used  uint64 // bit i set: bins[i] holds counts
	total uint64
	bins  [2 * distChunks][distChunkBins]uint64
}

var distAggPool = sync.Pool{New: func() any { return new(distAgg) }}

func (a *distAgg) add(d *distBucket) {
	z := d.zero.Load()
	a.zero += z
	a.total += z
	for c := range d.chunks {
		p := d.chunks[c].Load()
		if p == nil {
			continue
		}
		dst := &a.bins[c]
		if a.used&(1<<c) == 0 {
			*dst = [distChunkBins]uint64{}
			a.used |= 1 << c
		}
		for i := range p {
			n := uint64(p[i].Load())
			dst[i] += n
			a.total += n
		}
	}
}

// quantile returns the nearest-rank q-quantile, or false without samples.
func (a *distAgg) quantile(q float64) (float64, bool) {
	if a.total == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(a.total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	// Most negative first: negative chunks from the largest magnitude down.
	for c := 2*distChunks - 1; c >= distChunks; c-- {
		if a.used&(1<<c) == 0 {
			continue
		}
		for i := distChunkBins - 1; i >= 0; i-- {
			if seen += a.bins[c][i]; seen >= rank {
				return distValue(c, i), true
			}
		}
	}
	if seen += a.zero; seen >= rank {
		return 0, true
	}
	for c := range distChunks {
		if a.used&(1<<c) == 0 {
			continue
		}
		for i := range distChunkBins {
			if seen += a.bins[c][i]; seen >= rank {
				return distValue(c, i), true
			}
		}
	}
	return 0, false
}

func (a *distAgg) release() {
	a.zero, a.used, a.total = 0, 0, 0
	distAggPool.Put(a)
}

// scanDist adds the distribution buckets inside s to a.
func scanDist(ring []distBucket, s span, a *distAgg) {
	n := int64(len(ring))
	eLo, eHi := s.lo/distRes-1, s.hi/distRes
	if eLo < 1 {
		eLo = 1
	}
	if eHi-eLo+1 < n {
		for e := eLo; e <= eHi; e++ {
			d := &ring[e%n]
			if d.epoch.Load() == e && s.includes(e, distRes) {
				a.add(d)
			}
		}
		return
	}
	for i := range ring {
		d := &ring[i]
		if s.includes(d.epoch.Load(), distRes) {
			a.add(d)
		}
	}
}
