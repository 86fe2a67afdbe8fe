package metric

import (
	"fmt"

	"github.com/klaxonhq/klaxon/alert"
)

// Func is how a query reduces a series' samples inside a window.
type Func int

// Query functions. Last is the latest value (a gauge's current value, a
// counter's total); the others aggregate the samples inside the window.
const (
	Last Func = iota
	Avg
	Min
	Max
	Sum
	Count
	// Rate is the per-second increase over the window (counters), or the
	// number of samples per second (gauges and histograms).
	Rate
	P50
	P90
	P95
	P99
)

var funcNames = [...]string{"last", "avg", "min", "max", "sum", "count", "rate", "p50", "p90", "p95", "p99"}

// String returns the function's name as written in conditions.
func (f Func) String() string {
	if f >= 0 && int(f) < len(funcNames) {
		return funcNames[f]
	}
	return fmt.Sprintf("func(%d)", int(f))
}

// ParseFunc reads a function name ("avg", "p99").
func ParseFunc(s string) (Func, bool) {
	for i, n := range funcNames {
		if n == s {
			return Func(i), true
		}
	}
	return 0, false
}

// Quantile returns the quantile a percentile function asks for (0.99 for
// P99), or false for other functions.
func (f Func) Quantile() (float64, bool) {
	switch f {
	case P50:
		return 0.50, true
	case P90:
		return 0.90, true
	case P95:
		return 0.95, true
	case P99:
		return 0.99, true
	}
	return 0, false
}

// Result is one series' answer to a query.
type Result struct {
	// Labels are the series' labels (nil for an unlabelled series).
	Labels alert.Labels
	Value  float64
	// Metadata is what the series' provider says about it, if anything.
	Metadata map[string]string
}

// Provider answers the current value of metrics it knows by name: the seed's
// CustomMetricProvider. Value reports false when the provider has no value
// for name right now (no data, which is neither a breach nor a recovery); a
// NaN or infinite value counts as no value too. Implementations must be safe
// for concurrent use.
type Provider interface {
	Value(name string) (float64, bool)
	Metadata(name string) map[string]string
}
