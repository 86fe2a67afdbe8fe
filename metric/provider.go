package metric

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// namer is the optional upgrade of a Provider that lists its metrics, so
// Collect can sample them before anyone queries them.
type namer interface {
	Names() []string
}

type namedProvider struct {
	name string
	p    Provider
}

// RegisterProvider adds p under name. Names the registry does not record are
// asked from providers in registration order. It fails with
// ErrDuplicateProvider if name is taken.
func (r *Registry) RegisterProvider(name string, p Provider) error {
	if name == "" || p == nil {
		return fmt.Errorf("register provider: empty name or nil provider")
	}
	r.provMu.Lock()
	defer r.provMu.Unlock()
	for _, np := range r.providers {
		if np.name == name {
			return fmt.Errorf("%w: %s", ErrDuplicateProvider, name)
		}
	}
	r.providers = append(r.providers, namedProvider{name: name, p: p})
	return nil
}

// UnregisterProvider removes the provider name and reports whether it was
// registered. Samples already collected from it stay until they age out.
func (r *Registry) UnregisterProvider(name string) bool {
	r.provMu.Lock()
	defer r.provMu.Unlock()
	i := slices.IndexFunc(r.providers, func(np namedProvider) bool { return np.name == name })
	if i < 0 {
		return false
	}
	r.providers = slices.Delete(slices.Clone(r.providers), i, i+1)
	return true
}

// providerValue asks p for name. A NaN or infinite answer is no answer: it
// can neither breach nor clear a condition, and no store or JSON encoder
// takes it.
func providerValue(p Provider, name string) (float64, bool) {
	v, ok := p.Value(name)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func (r *Registry) provider(name string) Provider {
	r.provMu.RLock()
	defer r.provMu.RUnlock()
	for _, np := range r.providers {
		if np.name == name {
			return np.p
		}
	}
	return nil
}

// queryProviders answers a name the registry has no series for: the first
// provider with a value answers Last; other functions have no samples yet,
// but the name is remembered so Collect samples it from now on.
func (r *Registry) queryProviders(name string, sel alert.Matchers, fn Func) []Result {
	r.provMu.RLock()
	ps := r.providers
	r.provMu.RUnlock()
	for _, np := range ps {
		v, ok := providerValue(np.p, name)
		if !ok {
			continue
		}
		if _, listed := np.p.(namer); !listed {
			r.provMu.Lock()
			r.wanted[name] = struct{}{}
			r.provMu.Unlock()
		}
		if fn != Last || !sel.Matches(nil) {
			return nil
		}
		return []Result{{Value: v, Metadata: np.p.Metadata(name)}}
	}
	return nil
}

// askProvider answers Last for a collected metric from its provider.
func (r *Registry) askProvider(provider, name string, sel alert.Matchers) ([]Result, bool) {
	p := r.provider(provider)
	if p == nil {
		return nil, false
	}
	v, ok := providerValue(p, name)
	if !ok {
		return nil, true
	}
	if !sel.Matches(nil) {
		return nil, true
	}
	return []Result{{Value: v, Metadata: p.Metadata(name)}}, true
}

func (r *Registry) providerMetadata(provider, name string) map[string]string {
	if p := r.provider(provider); p != nil {
		return p.Metadata(name)
	}
	return nil
}

// Collect samples, at now, every metric of every provider (those its Names
// lists, or for providers without Names, the names that were queried) into
// gauges, so windows and percentiles work for provider metrics. It also
// re-records the current value of gauges that had no sample in the current
// 10 s bucket, so a gauge that rarely changes (active_connections) still has
// samples in every window. Call it every evaluation interval, before
// evaluating. A provider name that clashes with a recorded counter or
// histogram is skipped.
func (r *Registry) Collect(now time.Time) {
	r.provMu.RLock()
	ps := r.providers
	wanted := slices.Collect(maps.Keys(r.wanted))
	r.provMu.RUnlock()
	done := map[string]bool{}
	for _, np := range ps {
		names := wanted
		if n, ok := np.p.(namer); ok {
			names = n.Names()
		}
		for _, name := range names {
			if done[name] {
				continue // an earlier provider answers this name
			}
			v, ok := providerValue(np.p, name)
			if !ok {
				continue
			}
			done[name] = true
			if f := r.family(name); f != nil && f.provider != np.name {
				continue // recorded or pushed by the program, or another provider's
			}
			s, err := r.getSeries(name, KindGauge, nil, seriesOpts{dist: true, provider: np.name})
			if err != nil {
				continue
			}
			s.push(v, now)
		}
	}
	r.carryGauges(now)
}

// carryGauges re-records gauges made with Registry.Gauge that have no sample
// in now's fine bucket.
func (r *Registry) carryGauges(now time.Time) {
	r.mu.RLock()
	fams := slices.Collect(maps.Values(r.families))
	r.mu.RUnlock()
	sec := now.Unix()
	e := sec / fineRes
	for _, f := range fams {
		if f.kind != KindGauge {
			continue
		}
		for _, s := range f.list() {
			if !s.carry || !s.has.Load() {
				continue
			}
			b := &s.fine[e%fineSlots]
			if b.epoch.Load() == e && b.n.Load() > 0 {
				continue
			}
			s.observeAt(s.gaugeValue(), sec)
		}
	}
}

func (s *series) gaugeValue() float64 { return (&Gauge{s: s}).Value() }

// builtinMetadata describes the built-in names.
var builtinMetadata = map[string]map[string]string{
	NameRequestCount:        {"type": "counter", "unit": "requests", "description": "requests handled"},
	NameErrors:              {"type": "counter", "unit": "requests", "description": "requests that failed"},
	NameErrorRate:           {"type": "derived", "unit": "ratio", "description": "errors / request_count over the window (5m by default)"},
	NameResponseTime:        {"type": "histogram", "unit": "ms", "description": "request latency in milliseconds"},
	NameActiveConnections:   {"type": "gauge", "unit": "connections", "description": "open connections"},
	NameHealthCheckFailures: {"type": "counter", "unit": "checks", "description": "failed health checks"},
}

// Metadata describes a metric: built-in descriptions merged with what each
// provider says (a provider registered earlier wins a conflicting key).
// Returns nil when nothing is known. The map is the caller's.
func (r *Registry) Metadata(name string) map[string]string {
	var out map[string]string
	put := func(m map[string]string) {
		for k, v := range m {
			if out == nil {
				out = map[string]string{}
			}
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	r.provMu.RLock()
	ps := r.providers
	r.provMu.RUnlock()
	for _, np := range ps {
		put(np.p.Metadata(name))
	}
	put(builtinMetadata[name])
	return out
}
