package metric

import (
	"maps"
	"math"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Query answers fn over window for every series of name whose labels match
// sel (nil sel matches all), as of now. It is what the rule evaluator calls.
//
// A series without samples in the window is left out: no data is not zero.
// Last is the latest value; with window > 0 the series must also have a
// sample in the window. Aggregates asked with window <= 0 use
// Options.DefaultWindow, and windows longer than Options.Retention are
// clipped to it. A window covers [now-window, now] with its start rounded to
// the nearest bucket boundary (10 s for the last 8 minutes, 1 min before that
// and for percentiles).
//
// Per kind:
//   - counters: Last is the total; Sum and Count are the increase in the
//     window; Rate and Avg are the increase per second; Max is the total and
//     Min the total minus the window's increase; percentiles are absent.
//   - gauges and histograms: Last is the latest sample; Avg, Min, Max, Sum
//     and Count aggregate the samples; Rate is samples per second;
//     percentiles come from the log-linear distribution (histograms, pushed
//     and collected gauges), within 1.6% relative error.
//   - error_rate is errors / request_count over the window (DefaultWindow for
//     Last) for every fn, absent without requests; response_time queried
//     with Last and no window is its average over DefaultWindow.
//   - a name the registry does not record is asked from the providers in
//     registration order; Last asks the provider directly (also for names
//     Collect samples), other functions use the samples Collect took.
//
// Result labels are shared with the registry and must not be modified.
func (r *Registry) Query(name string, sel alert.Matchers, fn Func, window time.Duration, now time.Time) []Result {
	if name == NameErrorRate {
		derived := r.queryErrorRate(sel, window, now)
		if f := r.family(name); f != nil {
			return mergePushed(r.queryFamily(f, name, sel, fn, window, now), derived)
		}
		return derived
	}
	f := r.family(name)
	if f == nil {
		return r.queryProviders(name, sel, fn)
	}
	return r.queryFamily(f, name, sel, fn, window, now)
}

// mergePushed adds derived results to pushed ones, skipping derived series
// whose labels a pushed series already answers: a pushed value wins.
func mergePushed(pushed, derived []Result) []Result {
	if len(derived) == 0 {
		return pushed
	}
	out := pushed
	for _, d := range derived {
		dup := false
		for _, p := range pushed {
			if maps.Equal(p.Labels, d.Labels) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, d)
		}
	}
	return out
}

// queryFamily answers a query from a family's own series.
func (r *Registry) queryFamily(f *family, name string, sel alert.Matchers, fn Func, window time.Duration, now time.Time) []Result {
	if f.provider != "" && fn == Last && window <= 0 {
		if res, ok := r.askProvider(f.provider, name, sel); ok {
			return res
		}
		// Its provider is gone: another may answer.
		return r.queryProviders(name, sel, fn)
	}
	if name == NameResponseTime && fn == Last && window <= 0 {
		fn, window = Avg, r.opts.DefaultWindow
	}
	sp := r.span(fn, window, now)
	var meta map[string]string
	if f.provider != "" {
		meta = r.providerMetadata(f.provider, name)
	}
	var out []Result
	for _, s := range f.candidates(sel) {
		if !sel.Matches(s.labels) {
			continue
		}
		if v, ok := s.eval(fn, sp, window > 0); ok {
			out = append(out, Result{Labels: s.labels, Value: v, Metadata: meta})
		}
	}
	return out
}

// span turns a window into whole seconds ending at now.
func (r *Registry) span(fn Func, window time.Duration, now time.Time) span {
	if window <= 0 && fn != Last {
		window = r.opts.DefaultWindow
	}
	window = min(window, r.opts.Retention)
	sec := int64(window / time.Second)
	if sec < 1 {
		sec = 1
	}
	return newSpan(now.Unix(), sec)
}

// eval reduces s over sp. bounded says whether Last must have a sample in
// the window.
func (s *series) eval(fn Func, sp span, bounded bool) (float64, bool) {
	if s.kind == KindCounter {
		return s.evalCounter(fn, sp, bounded)
	}
	if fn == Last && !bounded {
		return math.Float64frombits(s.last.Load()), s.has.Load()
	}
	if q, ok := fn.Quantile(); ok {
		if s.dist == nil {
			return 0, false
		}
		da := distAggPool.Get().(*distAgg)
		defer da.release()
		scanDist(s.dist, sp, da)
		v, ok := da.quantile(q)
		return v, ok
	}
	a := s.window(sp)
	if a.n == 0 {
		return 0, false
	}
	switch fn {
	case Last:
		return math.Float64frombits(s.last.Load()), true
	case Avg:
		return a.sum / float64(a.n), true
	case Min:
		return a.min, true
	case Max:
		return a.max, true
	case Sum:
		return a.sum, true
	case Count:
		return float64(a.n), true
	case Rate:
		return float64(a.n) / float64(sp.hi-sp.lo), true
	}
	return 0, false
}

func (s *series) evalCounter(fn Func, sp span, bounded bool) (float64, bool) {
	if fn == Last && !bounded {
		return s.total(), true
	}
	if _, ok := fn.Quantile(); ok {
		return 0, false
	}
	a := s.window(sp)
	inc := float64(a.inc) + a.sum
	if inc == 0 {
		return 0, false
	}
	switch fn {
	case Last, Max:
		return s.total(), true
	case Min:
		return s.total() - inc, true
	case Sum, Count:
		return inc, true
	case Rate, Avg:
		return inc / float64(sp.hi-sp.lo), true
	}
	return 0, false
}
