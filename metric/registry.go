package metric

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Built-in metric names (DESIGN.md vocabulary).
const (
	NameRequestCount        = "request_count"
	NameErrors              = "errors"
	NameErrorRate           = "error_rate"
	NameResponseTime        = "response_time"
	NameActiveConnections   = "active_connections"
	NameHealthCheckFailures = "health_check_failures"
	NameMemoryUsage         = "memory_usage"
	NameCPUUsage            = "cpu_usage"
	NameGoroutines          = "goroutines"
	NameDiskUsage           = "disk_usage"
)

// Errors returned by the registry. Compare with errors.Is.
var (
	// ErrInvalidName: a metric name is not [a-zA-Z_:][a-zA-Z0-9_:]*.
	ErrInvalidName = errors.New("invalid metric name")
	// ErrInvalidLabel: a label name is not [a-zA-Z_][a-zA-Z0-9_]*, starts
	// with "__", or a label value is not valid UTF-8.
	ErrInvalidLabel = errors.New("invalid label")
	// ErrInvalidValue: a sample is NaN or infinite.
	ErrInvalidValue = errors.New("invalid sample value")
	// ErrInvalidTime: a sample is older than the retention or in the future.
	ErrInvalidTime = errors.New("invalid sample time")
	// ErrKindConflict: the name is already registered as another kind, or
	// is a derived metric that cannot be recorded.
	ErrKindConflict = errors.New("metric kind conflict")
	// ErrDuplicateProvider: a provider with that name is already registered.
	ErrDuplicateProvider = errors.New("duplicate provider")
)

// Options configure a Registry. The zero value (or nil) means defaults.
type Options struct {
	// Now is the clock. Default time.Now, read by recording through a
	// cached copy refreshed every 100ms (see Close); tests inject a fake one,
	// which recording then calls every time.
	Now func() time.Time
	// Retention is how far back windows can look. Default 1h; values
	// below 10m are raised to 10m. Longer windows are clipped to it. Each
	// extra hour costs 60 coarse buckets (2.8 KiB) per series, plus the
	// distributions of percentile series.
	Retention time.Duration
	// DefaultWindow is the window of error_rate and response_time queried
	// with Last, and of aggregates queried without a window. Default 5m.
	DefaultWindow time.Duration
	// DataDir is the directory whose filesystem disk_usage reports.
	// Default ".".
	DataDir string
	// NoRuntime leaves the Go runtime collector out. By default it is
	// registered as provider "runtime".
	NoRuntime bool
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Retention = max(cmp.Or(c.Retention, time.Hour), 10*time.Minute)
	c.DefaultWindow = cmp.Or(c.DefaultWindow, 5*time.Minute)
	c.DataDir = cmp.Or(c.DataDir, ".")
	return c
}

// family is every series of one name.
type family struct {
	name string
	kind Kind
	// provider names the provider whose values Collect samples into this
	// family ("" for recorded and pushed metrics).
	provider string
	// series is a copy-on-write snapshot so queries read it without locks.
	series atomic.Pointer[[]*series]
	// index is built from series on demand, for equality selectors.
	index atomic.Pointer[labelIndex]
}

func (f *family) list() []*series {
	if p := f.series.Load(); p != nil {
		return *p
	}
	return nil
}

// Registry holds metric series, answers window queries over them and asks
// providers about names it does not record. All methods are safe for
// concurrent use. Recording through handles (Counter, Gauge, Histogram,
// RequestRecorder) is lock-free and allocation-free.
type Registry struct {
	opts        Options
	coarseSlots int
	clock       *clock

	mu sync.RWMutex
	// families by name and series by canonical key; guarded by mu.
	families map[string]*family
	byKey    map[string]*series

	// requests is a copy-on-write index of request recorders by label hash,
	// read without locks by RecordRequest.
	requests atomic.Pointer[map[uint64][]*RequestRecorder]
	reqMu    sync.Mutex // serializes writers of requests

	provMu    sync.RWMutex
	providers []namedProvider     // registration order; guarded by provMu
	wanted    map[string]struct{} // queried names providers answered; guarded by provMu
}

// NewRegistry returns an empty registry. opts may be nil.
func NewRegistry(opts *Options) *Registry {
	o := opts.withDefaults()
	r := &Registry{
		opts:        o,
		coarseSlots: int(o.Retention/(coarseRes*time.Second)) + 2,
		families:    map[string]*family{},
		byKey:       map[string]*series{},
		wanted:      map[string]struct{}{},
	}
	var injected func() time.Time
	if opts != nil {
		injected = opts.Now
	}
	r.clock = newClock(injected)
	// Stop the clock's timer when the registry is dropped without Close.
	runtime.AddCleanup(r, (*clock).stop, r.clock)
	if !o.NoRuntime {
		r.providers = append(r.providers, namedProvider{name: "runtime", p: NewRuntimeCollector(o.DataDir)})
	}
	return r
}

// Close stops the timer that keeps the registry's cached clock current.
// Recording keeps working afterwards, reading the system clock each time.
// It is safe to call more than once.
func (r *Registry) Close() {
	r.clock.stop()
}

// seriesKey is the canonical identity of name + labels.
func seriesKey(name string, labels alert.Labels) string {
	var b strings.Builder
	b.WriteString(name)
	for _, k := range labels.Names() {
		b.WriteByte(0)
		b.WriteString(strconv.Itoa(len(k)))
		b.WriteByte(':')
		b.WriteString(k)
		b.WriteString(strconv.Itoa(len(labels[k])))
		b.WriteByte(':')
		b.WriteString(labels[k])
	}
	return b.String()
}

// seriesOpts says how getSeries creates a missing series.
type seriesOpts struct {
	dist     bool
	carry    bool
	provider string
}

// getSeries returns the series of name+labels, creating it (and its family)
// as kind if needed.
func (r *Registry) getSeries(name string, kind Kind, labels alert.Labels, so seriesOpts) (*series, error) {
	key := seriesKey(name, labels)
	r.mu.RLock()
	s := r.byKey[key]
	r.mu.RUnlock()
	if s != nil {
		if s.kind != kind {
			return nil, fmt.Errorf("%w: %s is a %s, not a %s", ErrKindConflict, name, s.kind, kind)
		}
		return s, nil
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	if name == NameErrorRate && kind != KindGauge {
		// error_rate is derived from request_count and errors; it may only
		// be pushed (a gauge), which then answers for the pushed labels.
		return nil, fmt.Errorf("%w: %s is derived from request_count and errors", ErrKindConflict, name)
	}
	if err := validLabels(labels); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.byKey[key]; s != nil {
		if s.kind != kind {
			return nil, fmt.Errorf("%w: %s is a %s, not a %s", ErrKindConflict, name, s.kind, kind)
		}
		return s, nil
	}
	f := r.families[name]
	if f == nil {
		f = &family{name: name, kind: kind, provider: so.provider}
		r.families[name] = f
	} else if f.kind != kind {
		return nil, fmt.Errorf("%w: %s is a %s, not a %s", ErrKindConflict, name, f.kind, kind)
	}
	if len(labels) == 0 {
		labels = nil
	} else {
		labels = labels.Clone()
	}
	s = newSeries(name, labels, kind, so.dist || kind == KindHistogram, r.coarseSlots, r.clock)
	s.carry = so.carry
	old := f.list()
	next := make([]*series, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	f.series.Store(&next)
	r.byKey[key] = s
	return s, nil
}

func (r *Registry) family(name string) *family {
	r.mu.RLock()
	f := r.families[name]
	r.mu.RUnlock()
	return f
}

// CounterSafely returns the counter name+labels, creating it if needed. It
// fails if the name or labels are invalid or name is another kind.
func (r *Registry) CounterSafely(name string, labels alert.Labels) (*Counter, error) {
	s, err := r.getSeries(name, KindCounter, labels, seriesOpts{})
	if err != nil {
		return nil, err
	}
	return &Counter{s: s}, nil
}

// Counter is CounterSafely for names and labels written in code: it panics
// where CounterSafely returns an error. The same name+labels always share
// one series. Obtain the handle once and keep it: that is the hot path.
func (r *Registry) Counter(name string, labels alert.Labels) *Counter {
	return must(r.CounterSafely(name, labels))
}

// GaugeSafely returns the gauge name+labels, creating it if needed.
func (r *Registry) GaugeSafely(name string, labels alert.Labels) (*Gauge, error) {
	s, err := r.getSeries(name, KindGauge, labels, seriesOpts{carry: true})
	if err != nil {
		return nil, err
	}
	return &Gauge{s: s}, nil
}

// Gauge is GaugeSafely that panics on an invalid name or kind conflict.
func (r *Registry) Gauge(name string, labels alert.Labels) *Gauge {
	return must(r.GaugeSafely(name, labels))
}

// HistogramSafely returns the histogram name+labels, creating it if needed.
func (r *Registry) HistogramSafely(name string, labels alert.Labels) (*Histogram, error) {
	s, err := r.getSeries(name, KindHistogram, labels, seriesOpts{dist: true})
	if err != nil {
		return nil, err
	}
	return &Histogram{s: s}, nil
}

// Histogram is HistogramSafely that panics on an invalid name or kind
// conflict.
func (r *Registry) Histogram(name string, labels alert.Labels) *Histogram {
	return must(r.HistogramSafely(name, labels))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// SeriesInfo describes one series for the API and dashboard.
type SeriesInfo struct {
	Name   string       `json:"name"`
	Kind   Kind         `json:"kind"`
	Labels alert.Labels `json:"labels,omitempty"`
	// Value is the latest value: a counter's total, a gauge's or
	// histogram's last sample.
	Value float64 `json:"value"`
	// Provider names the provider a collected series comes from.
	Provider string `json:"provider,omitempty"`
}

// Series lists every series, sorted by name then labels.
func (r *Registry) Series() []SeriesInfo {
	r.mu.RLock()
	fams := slices.Collect(maps.Values(r.families))
	r.mu.RUnlock()
	var out []SeriesInfo
	for _, f := range fams {
		for _, s := range f.list() {
			v := math.Float64frombits(s.last.Load())
			if s.kind == KindCounter {
				v = s.total()
			}
			out = append(out, SeriesInfo{Name: f.name, Kind: f.kind, Labels: s.labels, Value: v, Provider: f.provider})
		}
	}
	slices.SortFunc(out, func(a, b SeriesInfo) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Labels.String(), b.Labels.String()))
	})
	return out
}

// Names lists the metric names the registry can answer: recorded, pushed and
// collected names, error_rate once requests are recorded, and the names of
// providers that implement Names. Sorted, without duplicates.
func (r *Registry) Names() []string {
	r.mu.RLock()
	names := slices.Collect(maps.Keys(r.families))
	_, reqs := r.families[NameRequestCount]
	r.mu.RUnlock()
	if reqs {
		names = append(names, NameErrorRate)
	}
	r.provMu.RLock()
	for _, np := range r.providers {
		if n, ok := np.p.(namer); ok {
			names = append(names, n.Names()...)
		}
	}
	names = append(names, slices.Collect(maps.Keys(r.wanted))...)
	r.provMu.RUnlock()
	slices.Sort(names)
	return slices.Compact(names)
}
