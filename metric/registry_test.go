package metric

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
)

// t0 is aligned to the hour, so 5 s and 1 min buckets start on it.
var t0 = time.Unix(1_699_999_200, 0)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type testBundle struct {
	clock *fakeClock
	reg   *Registry
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	c := &fakeClock{t: t0}
	return &testBundle{clock: c, reg: NewRegistry(&Options{Now: c.Now, NoRuntime: true})}
}

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// one returns the value of the single result of a query, or false if absent.
func one(t *testing.T, res []Result) (float64, bool) {
	t.Helper()
	require.LessOrEqual(t, len(res), 1, "results: %v", res)
	if len(res) == 0 {
		return 0, false
	}
	return res[0].Value, true
}

func mustMatch(t *testing.T, name string, op alert.MatchOp, v string) alert.Matcher {
	t.Helper()
	m, err := alert.NewMatcher(name, op, v)
	require.NoError(t, err)
	return m
}

func TestCounter_Window(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.reg.Counter("jobs", nil)
	// One increment per second from t0+1 to t0+120, plus a fractional add.
	for s := 1; s <= 120; s++ {
		b.clock.Set(at(float64(s)))
		c.Inc()
	}
	c.Add(0.5) // at t0+120
	c.Add(-3)  // ignored
	c.Add(math.NaN())
	now := at(120)

	tests := []struct {
		name   string
		fn     Func
		window time.Duration
		want   float64
	}{
		// Last is the total, whatever the window.
		{"last", Last, 0, 120.5},
		// Sum is the increase inside the window [60, 120]: 61 ticks + 0.5.
		{"sum 1m", Sum, time.Minute, 61.5},
		// Count of a counter is also its increase.
		{"count 1m", Count, time.Minute, 61.5},
		// Rate is the increase per second of window.
		{"rate 1m", Rate, time.Minute, 61.5 / 60},
		// Avg is the same per-second increase.
		{"avg 2m", Avg, 2 * time.Minute, 120.5 / 120},
		// Max is the total at the end of the window, Min at its start.
		{"max 1m", Max, time.Minute, 120.5},
		{"min 1m", Min, time.Minute, 59},
		// A 30 s window sees seconds 90..120.
		{"sum 30s", Sum, 30 * time.Second, 31.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, ok := one(t, b.reg.Query("jobs", nil, tt.fn, tt.window, now))
			require.True(t, ok)
			require.InDelta(t, tt.want, v, 1e-9)
		})
	}
	t.Run("percentiles are absent", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, b.reg.Query("jobs", nil, P99, time.Minute, now))
	})
	t.Run("no increase is no data", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, b.reg.Query("jobs", nil, Sum, time.Minute, at(400)))
		v, ok := one(t, b.reg.Query("jobs", nil, Last, 0, at(400)))
		require.True(t, ok)
		require.Equal(t, 120.5, v)
	})
	require.Equal(t, 120.5, c.Value())
}

func TestGauge_Window(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.reg.Gauge("queue_depth", alert.Labels{"queue": "mail"})
	// Samples 1..60 at seconds 1..60, then 1000 at 75.
	for s := 1; s <= 60; s++ {
		b.clock.Set(at(float64(s)))
		g.Set(float64(s))
	}
	b.clock.Set(at(75))
	g.Set(1000)

	tests := []struct {
		name   string
		fn     Func
		window time.Duration
		now    float64
		want   float64
		absent bool
	}{
		// Last is the latest value.
		{name: "last", fn: Last, now: 75, want: 1000},
		// Samples at 1..60 over [0, 60].
		{name: "avg", fn: Avg, window: time.Minute, now: 60, want: 30.5},
		{name: "min", fn: Min, window: time.Minute, now: 60, want: 1},
		{name: "max", fn: Max, window: time.Minute, now: 60, want: 60},
		{name: "sum", fn: Sum, window: time.Minute, now: 60, want: 1830},
		{name: "count", fn: Count, window: time.Minute, now: 60, want: 60},
		// Rate of a gauge is samples per second.
		{name: "rate", fn: Rate, window: time.Minute, now: 60, want: 1},
		// [15, 75] rounds to the 10 s buckets from 20: samples 20..60, 1000.
		{name: "max shifted", fn: Max, window: time.Minute, now: 75, want: 1000},
		{name: "min shifted", fn: Min, window: time.Minute, now: 75, want: 20},
		// 30 s window at 75: buckets from 50, samples 50..60 and 1000.
		{name: "count 30s", fn: Count, window: 30 * time.Second, now: 75, want: 12},
		// Last with a window needs a sample in it.
		{name: "last bounded stale", fn: Last, window: time.Minute, now: 200, absent: true},
		{name: "last bounded fresh", fn: Last, window: time.Minute, now: 100, want: 1000},
		// Gauges made with Gauge have no distribution.
		{name: "p50 absent", fn: P50, window: time.Minute, now: 60, absent: true},
		// Nothing in the window: absent, not zero.
		{name: "empty window", fn: Avg, window: time.Minute, now: 300, absent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, ok := one(t, b.reg.Query("queue_depth", nil, tt.fn, tt.window, at(tt.now)))
			require.Equal(t, !tt.absent, ok)
			require.InDelta(t, tt.want, v, 1e-9)
		})
	}
}

func TestGauge_Add(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.reg.Gauge(NameActiveConnections, nil)
	g.Add(1)
	g.Add(1)
	g.Add(-1)
	g.Add(math.Inf(1))
	require.Equal(t, 1.0, g.Value())
	v, ok := one(t, b.reg.Query(NameActiveConnections, nil, Max, time.Minute, t0))
	require.True(t, ok)
	require.Equal(t, 2.0, v)
}

func TestHistogram_Percentiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := b.reg.Histogram("latency", nil)
	// 1..1000 spread over the minute after t0, shuffled in time.
	for i := 1; i <= 1000; i++ {
		b.clock.Set(at(float64((i * 7919) % 60)))
		h.Observe(float64(i))
	}
	now := at(59)
	for _, tt := range []struct {
		fn   Func
		want float64
	}{{P50, 500}, {P90, 900}, {P95, 950}, {P99, 990}} {
		v, ok := one(t, b.reg.Query("latency", nil, tt.fn, time.Minute, now))
		require.True(t, ok)
		require.InEpsilon(t, tt.want, v, 1.0/64, tt.fn.String())
	}
	v, _ := one(t, b.reg.Query("latency", nil, Avg, time.Minute, now))
	require.InDelta(t, 500.5, v, 1e-9)
	v, _ = one(t, b.reg.Query("latency", nil, Max, time.Minute, now))
	require.Equal(t, 1000.0, v)
	// Nothing an hour later.
	require.Empty(t, b.reg.Query("latency", nil, P99, 5*time.Minute, at(3700)))
}

func TestDist_RelativeError(t *testing.T) {
	t.Parallel()
	// Every value maps to a bin whose midpoint is within 1/64 of it, across
	// the whole range and for negatives.
	for v := math.Ldexp(1, distMinExp); v < math.Ldexp(1, distMaxExp+1); v *= 1.0137 {
		for _, x := range []float64{v, -v} {
			c, i := distIndex(x)
			got := distValue(c, i)
			require.InEpsilon(t, x, got, 1.0/64+1e-12, "value %g", x)
		}
	}
	c, _ := distIndex(0)
	require.Equal(t, -1, c)
	c, _ = distIndex(1e-9)
	require.Equal(t, -1, c)
}

func TestHistogram_NegativeAndZeroPercentiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, v := range []float64{-100, -10, 0, 0, 10, 100, 1000} {
		require.NoError(t, b.reg.Push("delta", nil, v, t0))
	}
	for _, tt := range []struct {
		q    float64
		fn   Func
		want float64
	}{{0.5, P50, 0}, {0.9, P90, 1000}} {
		v, ok := one(t, b.reg.Query("delta", nil, tt.fn, time.Minute, t0))
		require.True(t, ok)
		require.InDelta(t, tt.want, v, math.Abs(tt.want)/64)
	}
	da := &distAgg{}
	for _, v := range []float64{-100, -10, 5} {
		var d distBucket
		d.observe(v)
		da.add(&d)
	}
	v, ok := da.quantile(0.01)
	require.True(t, ok)
	require.InEpsilon(t, -100, v, 1.0/64)
}

func TestWindow_Expiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.reg.Counter("ticks", nil)
	g := b.reg.Gauge("temp", nil)
	// One tick and one sample every 10 s for 50 minutes, value = minute.
	for s := 10; s <= 3000; s += 10 {
		b.clock.Set(at(float64(s)))
		c.Inc()
		g.Set(float64(s / 60))
	}
	now := at(3000)
	sum := func(name string, fn Func, w time.Duration, now time.Time) float64 {
		v, ok := one(t, b.reg.Query(name, nil, fn, w, now))
		require.True(t, ok, "%s %s %s", name, fn, w)
		return v
	}
	// Inside the fine ring: [2700, 3000] holds 31 ticks.
	require.Equal(t, 31.0, sum("ticks", Sum, 5*time.Minute, now))
	// Older data was folded into minute buckets: [1200, 3000] is still
	// exact because the window starts on a minute.
	require.Equal(t, 181.0, sum("ticks", Sum, 30*time.Minute, now))
	require.Equal(t, 300.0, sum("ticks", Count, time.Hour, now))
	require.Equal(t, 300.0, sum("ticks", Last, 0, now))
	require.Equal(t, 0.0, sum("temp", Min, time.Hour, now))
	require.Equal(t, 50.0, sum("temp", Max, time.Hour, now))
	require.Equal(t, 30.0, sum("temp", Min, 20*time.Minute, now))
	require.Equal(t, 121.0, sum("temp", Count, 20*time.Minute, now))

	// 40 minutes later, a 1h window [1800, 5400] keeps 121 ticks...
	later := now.Add(40 * time.Minute)
	require.Equal(t, 121.0, sum("ticks", Sum, time.Hour, later))
	require.Equal(t, 30.0, sum("temp", Min, time.Hour, later))
	// ...and one more tick recycles slots; the total stays right.
	b.clock.Set(later)
	c.Inc()
	require.Equal(t, 301.0, sum("ticks", Last, 0, later))
	require.Equal(t, 122.0, sum("ticks", Sum, time.Hour, later))
	require.Equal(t, 1.0, sum("ticks", Sum, time.Minute, later))
	// Two hours later only the new tick is left in any window, and the
	// total survives the coarse ring recycling.
	b.clock.Set(later.Add(2 * time.Hour))
	c.Inc()
	require.Equal(t, 302.0, sum("ticks", Last, 0, later.Add(2*time.Hour)))
	require.Equal(t, 1.0, sum("ticks", Sum, time.Hour, later.Add(2*time.Hour)))
	// Windows longer than the retention are clipped.
	require.Equal(t, 1.0, sum("ticks", Sum, 24*time.Hour, later.Add(2*time.Hour)))
}

func TestQuery_Selectors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tool := range []string{"search", "fetch", "write"} {
		q := b.reg.Requests(alert.Labels{"tool": tool, "server": "mcp"})
		for range 4 {
			q.Record(10*time.Millisecond, tool == "write")
		}
	}
	b.reg.Counter(NameRequestCount, nil).Inc()

	tests := []struct {
		name string
		sel  alert.Matchers
		want []string
	}{
		// No selector: every series, including the unlabelled one.
		{"all", nil, []string{"", "fetch", "search", "write"}},
		// Equality.
		{"equal", alert.Matchers{mustMatch(t, "tool", alert.MatchEqual, "fetch")}, []string{"fetch"}},
		// Negative matchers match a missing label as "".
		{"not equal", alert.Matchers{mustMatch(t, "tool", alert.MatchNotEqual, "fetch")}, []string{"", "search", "write"}},
		// Regular expressions are anchored.
		{"regexp", alert.Matchers{mustMatch(t, "tool", alert.MatchRegexp, "s.*|w.*")}, []string{"search", "write"}},
		// A conjunction.
		{"and", alert.Matchers{
			mustMatch(t, "server", alert.MatchEqual, "mcp"),
			mustMatch(t, "tool", alert.MatchNotRegexp, "search|fetch"),
		}, []string{"write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, r := range b.reg.Query(NameRequestCount, tt.sel, Sum, time.Minute, t0) {
				got = append(got, r.Labels["tool"])
			}
			require.ElementsMatch(t, tt.want, got)
		})
	}
}

func TestErrorRate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	api := alert.Labels{"tool": "api"}
	// 10 minutes ago: 10 requests, all failed.
	for range 10 {
		b.clock.Set(at(0))
		b.reg.RecordRequest(api, 200*time.Millisecond, true)
	}
	// Last 5 minutes: 100 requests, 4 failed, 10 ms each.
	for i := range 100 {
		b.clock.Set(at(float64(600 - 290 + i)))
		b.reg.RecordRequest(api, 10*time.Millisecond, i%25 == 0)
	}
	// A label set with requests but no errors.
	b.clock.Set(at(600))
	b.reg.RecordRequest(alert.Labels{"tool": "ok"}, time.Millisecond, false)
	now := at(600)

	rate := func(sel alert.Matchers, fn Func, w time.Duration) (float64, bool) {
		return one(t, b.reg.Query(NameErrorRate, sel, fn, w, now))
	}
	apiSel := alert.Matchers{mustMatch(t, "tool", alert.MatchEqual, "api")}
	v, ok := rate(apiSel, Last, 0)
	require.True(t, ok)
	require.InDelta(t, 0.04, v, 1e-12, "Last is the default 5m window")
	v, _ = rate(apiSel, Avg, 15*time.Minute)
	require.InDelta(t, 14.0/110, v, 1e-12, "an explicit window is used")
	v, ok = rate(alert.Matchers{mustMatch(t, "tool", alert.MatchEqual, "ok")}, Last, 0)
	require.True(t, ok)
	require.Equal(t, 0.0, v)
	// No requests in the window: absent.
	_, ok = one(t, b.reg.Query(NameErrorRate, apiSel, Last, 0, at(2000)))
	require.False(t, ok)

	// response_time with Last is the average over the default window.
	v, ok = one(t, b.reg.Query(NameResponseTime, apiSel, Last, 0, now))
	require.True(t, ok)
	require.InDelta(t, 10.0, v, 1e-9)
	v, _ = one(t, b.reg.Query(NameResponseTime, apiSel, Max, 15*time.Minute, now))
	require.InDelta(t, 200.0, v, 1e-9)
	v, _ = one(t, b.reg.Query(NameErrors, apiSel, Sum, 15*time.Minute, now))
	require.Equal(t, 14.0, v)
	// The built-in names can't be pushed as gauges.
	require.ErrorIs(t, b.reg.Push(NameRequestCount, nil, 1, time.Time{}), ErrKindConflict)
	require.Same(t, b.reg.Requests(alert.Labels{"tool": "api"}), b.reg.Requests(api))
}

func TestPush_ErrorRate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	reg := NewRegistry(&Options{Now: func() time.Time { return now }, NoRuntime: true})
	defer reg.Close()
	// Recorded requests derive error_rate for tool=a.
	for i := range 10 {
		reg.Requests(alert.Labels{"tool": "a"}).Record(time.Millisecond, i < 5)
	}
	// A pushed error_rate (the README's first steps) answers for its labels.
	require.NoError(t, reg.Push(NameErrorRate, nil, 0.2, now))
	res := reg.Query(NameErrorRate, nil, Last, 0, now)
	require.Len(t, res, 2)
	byTool := map[string]float64{}
	for _, r := range res {
		byTool[r.Labels["tool"]] = r.Value
	}
	require.InDelta(t, 0.2, byTool[""], 1e-9)
	require.InDelta(t, 0.5, byTool["a"], 1e-9)
	// A pushed series with the same labels as a derived one wins.
	require.NoError(t, reg.Push(NameErrorRate, alert.Labels{"tool": "a"}, 0.01, now))
	res = reg.Query(NameErrorRate, alert.Matchers{mustMatcher(t, "tool", "a")}, Last, 0, now)
	require.Len(t, res, 1)
	require.InDelta(t, 0.01, res[0].Value, 1e-9)
	// Pushing zero clears it.
	require.NoError(t, reg.Push(NameErrorRate, nil, 0, now))
	res = reg.Query(NameErrorRate, alert.Matchers{mustMatcher(t, "tool", "")}, Last, 0, now)
	require.Len(t, res, 1)
	require.Zero(t, res[0].Value)
}

func mustMatcher(t *testing.T, name, value string) alert.Matcher {
	t.Helper()
	m, err := alert.NewMatcher(name, alert.MatchEqual, value)
	require.NoError(t, err)
	return m
}

func TestPush(t *testing.T) {
	t.Parallel()
	b := setup(t)
	lbl := alert.Labels{"region": "eu"}
	require.NoError(t, b.reg.Push("queue_size", lbl, 10, at(-30)))
	require.NoError(t, b.reg.Push("queue_size", lbl, 30, at(-10)))
	// An older sample arriving late is aggregated but does not become Last.
	require.NoError(t, b.reg.Push("queue_size", lbl, 20, at(-20)))
	// Samples far back go to the minute buckets.
	require.NoError(t, b.reg.Push("queue_size", lbl, 5, at(-1800)))

	v, _ := one(t, b.reg.Query("queue_size", nil, Last, 0, t0))
	require.Equal(t, 30.0, v)
	v, _ = one(t, b.reg.Query("queue_size", nil, Avg, time.Minute, t0))
	require.Equal(t, 20.0, v)
	v, _ = one(t, b.reg.Query("queue_size", nil, P50, time.Minute, t0))
	require.InEpsilon(t, 20.0, v, 1.0/64)
	v, _ = one(t, b.reg.Query("queue_size", nil, Min, time.Hour, t0))
	require.Equal(t, 5.0, v)
	v, _ = one(t, b.reg.Query("queue_size", nil, Count, time.Hour, t0))
	require.Equal(t, 4.0, v)

	tests := []struct {
		name   string
		metric string
		labels alert.Labels
		value  float64
		at     time.Time
		err    error
	}{
		// Names follow the Prometheus alphabet.
		{"empty name", "", nil, 1, t0, ErrInvalidName},
		{"leading digit", "1abc", nil, 1, t0, ErrInvalidName},
		{"dash", "a-b", nil, 1, t0, ErrInvalidName},
		{"unicode", "lätenz", nil, 1, t0, ErrInvalidName},
		// Colons and underscores are fine.
		{"colon", "job:rate_5m", nil, 1, t0, nil},
		// Label names are stricter (no colon, no __ prefix).
		{"label colon", "m", alert.Labels{"a:b": "x"}, 1, t0, ErrInvalidLabel},
		{"label reserved", "m", alert.Labels{"__name__": "x"}, 1, t0, ErrInvalidLabel},
		{"label empty", "m", alert.Labels{"": "x"}, 1, t0, ErrInvalidLabel},
		{"label value not utf8", "m", alert.Labels{"a": "\xff"}, 1, t0, ErrInvalidLabel},
		// Values must be finite.
		{"nan", "m", nil, math.NaN(), t0, ErrInvalidValue},
		{"inf", "m", nil, math.Inf(-1), t0, ErrInvalidValue},
		// Times within the retention, at most a minute ahead.
		{"too old", "m", nil, 1, at(-3601), ErrInvalidTime},
		{"future", "m", nil, 1, at(61), ErrInvalidTime},
		// A zero time means now.
		{"zero time", "m", nil, 1, time.Time{}, nil},
		// A name recorded as another kind.
		{"histogram name", NameResponseTime, nil, 1, t0, ErrKindConflict},
	}
	b.reg.Histogram(NameResponseTime, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := b.reg.Push(tt.metric, tt.labels, tt.value, tt.at)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
		})
	}
}

func TestHandles_Identity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	l := alert.Labels{"a": "1", "b": "2"}
	c := b.reg.Counter("c", l)
	l["a"] = "changed" // the registry keeps its own copy
	c2 := b.reg.Counter("c", alert.Labels{"b": "2", "a": "1"})
	c.Inc()
	c2.Inc()
	require.Equal(t, 2.0, c.Value())
	require.Len(t, b.reg.Series(), 1)
	_, err := b.reg.GaugeSafely("c", nil)
	require.ErrorIs(t, err, ErrKindConflict)
	_, err = b.reg.HistogramSafely("bad name", nil)
	require.ErrorIs(t, err, ErrInvalidName)
	require.Panics(t, func() { b.reg.Gauge("c", nil) })
}

func TestRegistry_SeriesAndNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.reg.Requests(alert.Labels{"tool": "x"}).Record(3*time.Millisecond, false)
	b.reg.Gauge(NameActiveConnections, nil).Set(7)
	require.NoError(t, b.reg.Push("custom", nil, 1.5, time.Time{}))

	got := b.reg.Series()
	require.Equal(t, []SeriesInfo{
		{Name: NameActiveConnections, Kind: KindGauge, Value: 7},
		{Name: "custom", Kind: KindGauge, Value: 1.5},
		{Name: NameErrors, Kind: KindCounter, Labels: alert.Labels{"tool": "x"}, Value: 0},
		{Name: NameRequestCount, Kind: KindCounter, Labels: alert.Labels{"tool": "x"}, Value: 1},
		{Name: NameResponseTime, Kind: KindHistogram, Labels: alert.Labels{"tool": "x"}, Value: 3},
	}, got)
	require.Equal(t, []string{NameActiveConnections, "custom", NameErrorRate, NameErrors, NameRequestCount, NameResponseTime},
		b.reg.Names())
}
