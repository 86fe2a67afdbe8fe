package metric

import (
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
)

// mapProvider is a Provider over a settable map, counting Value calls.
type mapProvider struct {
	mu     sync.Mutex
	values map[string]float64
	meta   map[string]string
	calls  map[string]int
}

func newMapProvider(values map[string]float64, meta map[string]string) *mapProvider {
	return &mapProvider{values: values, meta: meta, calls: map[string]int{}}
}

func (p *mapProvider) Value(name string) (float64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[name]++
	v, ok := p.values[name]
	return v, ok
}

func (p *mapProvider) Metadata(name string) map[string]string {
	if _, ok := p.values[name]; !ok {
		return nil
	}
	return p.meta
}

func (p *mapProvider) set(name string, v float64) {
	p.mu.Lock()
	p.values[name] = v
	p.mu.Unlock()
}

// listedProvider also lists its names.
type listedProvider struct{ *mapProvider }

func (p listedProvider) Names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k := range p.values {
		out = append(out, k)
	}
	return out
}

func TestProviders_Fallthrough(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := newMapProvider(map[string]float64{"queue_depth": 5}, map[string]string{"source": "first"})
	second := newMapProvider(map[string]float64{"queue_depth": 9, "cache_hits": 0.8}, map[string]string{"source": "second", "unit": "ratio"})
	require.NoError(t, b.reg.RegisterProvider("first", first))
	require.NoError(t, b.reg.RegisterProvider("second", second))
	require.ErrorIs(t, b.reg.RegisterProvider("first", second), ErrDuplicateProvider)

	// The first provider with a value answers, with its metadata.
	res := b.reg.Query("queue_depth", nil, Last, 0, t0)
	require.Equal(t, []Result{{Value: 5, Metadata: map[string]string{"source": "first"}}}, res)
	res = b.reg.Query("cache_hits", nil, Last, 0, t0)
	require.Equal(t, []Result{{Value: 0.8, Metadata: map[string]string{"source": "second", "unit": "ratio"}}}, res)
	// Unknown everywhere: no data.
	require.Empty(t, b.reg.Query("nope", nil, Last, 0, t0))
	// A selector on labels an unlabelled provider value lacks.
	require.Empty(t, b.reg.Query("cache_hits", alert.Matchers{mustMatch(t, "x", alert.MatchEqual, "y")}, Last, 0, t0))
	// Windows need samples, which Collect takes for the queried names.
	require.Empty(t, b.reg.Query("cache_hits", nil, Avg, time.Minute, t0))
	for s, v := range []float64{0.8, 0.6, 0.4} {
		second.set("cache_hits", v)
		b.reg.Collect(at(float64(10 * s)))
	}
	res = b.reg.Query("cache_hits", nil, Avg, time.Minute, at(20))
	require.Len(t, res, 1)
	require.InDelta(t, 0.6, res[0].Value, 1e-12)
	require.Equal(t, "second", res[0].Metadata["source"])
	res = b.reg.Query("cache_hits", nil, Min, time.Minute, at(20))
	require.InDelta(t, 0.4, res[0].Value, 1e-12)
	// Last still asks the provider directly.
	second.set("cache_hits", 0.1)
	v, _ := one(t, b.reg.Query("cache_hits", nil, Last, 0, at(20)))
	require.Equal(t, 0.1, v)

	// Metadata merges providers, earlier ones winning.
	require.Equal(t, map[string]string{"source": "first", "unit": "ratio"}, b.reg.Metadata("queue_depth"))
	require.Nil(t, b.reg.Metadata("nope"))
	require.Equal(t, "ms", b.reg.Metadata(NameResponseTime)["unit"])

	// Unregistering lets the next provider answer.
	require.True(t, b.reg.UnregisterProvider("first"))
	require.False(t, b.reg.UnregisterProvider("first"))
	v, _ = one(t, b.reg.Query("queue_depth", nil, Last, 0, t0))
	require.Equal(t, 9.0, v)
	require.Contains(t, b.reg.Names(), "cache_hits")
}

func TestProviders_CollectNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := listedProvider{newMapProvider(map[string]float64{"pool_size": 10}, nil)}
	require.NoError(t, b.reg.RegisterProvider("pool", p))
	// A recorded metric wins over a provider's name.
	b.reg.Counter("jobs", nil).Inc()
	p.set("jobs", 1000)
	gauge := b.reg.Gauge(NameActiveConnections, nil)
	gauge.Set(3)

	// Names are sampled without ever being queried.
	for s := range 6 {
		p.set("pool_size", float64(10+s))
		b.reg.Collect(at(float64(10 * s)))
	}
	v, ok := one(t, b.reg.Query("pool_size", nil, Max, time.Minute, at(50)))
	require.True(t, ok)
	require.Equal(t, 15.0, v)
	v, _ = one(t, b.reg.Query("pool_size", nil, P50, time.Minute, at(50)))
	require.InEpsilon(t, 12.5, v, 0.1)
	v, _ = one(t, b.reg.Query("jobs", nil, Last, 0, at(50)))
	require.Equal(t, 1.0, v)
	// The gauge that never changed was re-sampled by every Collect.
	v, _ = one(t, b.reg.Query(NameActiveConnections, nil, Count, time.Minute, at(50)))
	require.Equal(t, 6.0, v)
	require.Contains(t, b.reg.Names(), "pool_size")
	for _, s := range b.reg.Series() {
		if s.Name == "pool_size" {
			require.Equal(t, "pool", s.Provider)
			require.Equal(t, 15.0, s.Value)
		}
	}
}

func TestRuntimeCollector(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := NewRuntimeCollector(dir)
	require.ElementsMatch(t, []string{NameMemoryUsage, NameCPUUsage, NameGoroutines, NameDiskUsage}, c.Names())

	mem, ok := c.Value(NameMemoryUsage)
	require.True(t, ok)
	require.Greater(t, mem, 0.0)
	require.Less(t, mem, 100_000.0)
	g, ok := c.Value(NameGoroutines)
	require.True(t, ok)
	require.GreaterOrEqual(t, g, 1.0)
	disk, ok := c.Value(NameDiskUsage)
	require.True(t, ok)
	require.GreaterOrEqual(t, disk, 0.0)
	require.LessOrEqual(t, disk, 100.0)
	cpu, ok := c.Value(NameCPUUsage)
	require.True(t, ok)
	require.GreaterOrEqual(t, cpu, 0.0)
	_, ok = c.Value("nope")
	require.False(t, ok)
	require.Equal(t, "MB", c.Metadata(NameMemoryUsage)["unit"])
	require.Nil(t, c.Metadata("nope"))

	_, ok = NewRuntimeCollector(dir + "/missing").Value(NameDiskUsage)
	require.False(t, ok)

	// Registered by default, sampled by Collect.
	r := NewRegistry(&Options{DataDir: dir, Now: func() time.Time { return t0 }})
	r.Collect(t0)
	v, ok := one(t, r.Query(NameGoroutines, nil, Max, time.Minute, t0))
	require.True(t, ok)
	require.GreaterOrEqual(t, v, 1.0)
	require.Equal(t, "runtime", r.Metadata(NameDiskUsage)["source"])
	_, err := os.Stat(dir)
	require.NoError(t, err)
}

func TestRegistry_Concurrent(t *testing.T) {
	t.Parallel()
	// The real clock, so bucket recycling happens while recording.
	r := NewRegistry(nil)
	t.Cleanup(r.Close)
	c := r.Counter("c", nil)
	h := r.Histogram("h", nil)
	g := r.Gauge("g", nil)
	var wg sync.WaitGroup
	const workers, each = 8, 2000
	for w := range workers {
		wg.Go(func() {
			lbl := alert.Labels{"w": string(rune('a' + w%4))}
			for i := range each {
				c.Inc()
				h.Observe(float64(i))
				g.Add(1)
				r.RecordRequest(lbl, time.Millisecond, i%10 == 0)
				if i%200 == 0 {
					require.NoError(t, r.Push("pushed", lbl, float64(i), time.Time{}))
				}
			}
		})
		wg.Go(func() {
			for range 200 {
				now := time.Now()
				r.Query("c", nil, Sum, time.Minute, now)
				r.Query("h", nil, P99, time.Minute, now)
				r.Query(NameErrorRate, nil, Last, 0, now)
				r.Query("pushed", nil, Avg, time.Minute, now)
				r.Series()
				r.Collect(now)
			}
		})
	}
	wg.Wait()
	now := time.Now()
	require.Equal(t, float64(workers*each), c.Value())
	require.Equal(t, float64(workers*each), g.Value())
	v, _ := one(t, r.Query("c", nil, Sum, 10*time.Minute, now))
	require.Equal(t, float64(workers*each), v)
	total := 0.0
	for _, res := range r.Query(NameRequestCount, nil, Sum, 10*time.Minute, now) {
		total += res.Value
	}
	require.Equal(t, float64(workers*each), total)
	for _, res := range r.Query(NameErrorRate, nil, Last, 0, now) {
		require.InDelta(t, 0.1, res.Value, 1e-12)
	}
}

// A provider answering NaN or an infinity has no value: neither a breach
// nor a recovery, and nothing downstream (store, JSON) has to carry it.
func TestProviders_NonFiniteIsNoValue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := newMapProvider(map[string]float64{"queue_depth": math.NaN(), "lag": math.Inf(1)}, nil)
	good := newMapProvider(map[string]float64{"queue_depth": 7}, nil)
	require.NoError(t, b.reg.RegisterProvider("bad", listedProvider{bad}))
	require.NoError(t, b.reg.RegisterProvider("good", good))

	v, _ := one(t, b.reg.Query("queue_depth", nil, Last, 0, t0))
	require.Equal(t, 7.0, v, "the next provider answers")
	require.Empty(t, b.reg.Query("lag", nil, Last, 0, t0))

	// Collect skips them too, so windows never see them.
	b.reg.Collect(t0)
	bad.set("lag", 3)
	b.reg.Collect(at(10))
	res := b.reg.Query("lag", nil, Max, time.Minute, at(10))
	require.Len(t, res, 1)
	require.Equal(t, 3.0, res[0].Value)
}
