package metric

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/alert"
)

// maxFuture is how far ahead of the registry clock a pushed sample may be
// stamped (clock skew between the pusher and klaxon).
const maxFuture = time.Minute

// Push records a sample of a custom metric, as POST /api/v1/metrics does.
// Pushed metrics are gauges: windows aggregate their samples (percentiles
// included) and Last is the latest pushed value by sample time. A zero at
// means now. It fails with ErrInvalidName, ErrInvalidLabel, ErrInvalidValue,
// ErrInvalidTime (older than the retention, or more than a minute ahead) or
// ErrKindConflict (the name is a counter or histogram). Pushing error_rate
// is allowed: pushed series answer for their labels, and the value derived
// from recorded requests still answers for the others.
func (r *Registry) Push(name string, labels alert.Labels, value float64, at time.Time) error {
	now := r.opts.Now()
	if at.IsZero() {
		at = now
	}
	if err := r.check(name, labels, value, at, now); err != nil {
		return err
	}
	s, err := r.getSeries(name, KindGauge, labels, seriesOpts{dist: true})
	if err != nil {
		return err
	}
	s.push(value, at)
	return nil
}

// CheckPush reports whether Push would accept the sample, without
// recording it: callers with a batch check all of it first, so a bad
// sample refuses the batch instead of leaving it half applied. A zero at
// means now.
func (r *Registry) CheckPush(name string, labels alert.Labels, value float64, at time.Time) error {
	now := r.opts.Now()
	if at.IsZero() {
		at = now
	}
	return r.check(name, labels, value, at, now)
}

func (r *Registry) check(name string, labels alert.Labels, value float64, at, now time.Time) error {
	if err := validName(name); err != nil {
		return err
	}
	if err := validLabels(labels); err != nil {
		return err
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return fmt.Errorf("%w: %s: %v", ErrInvalidValue, name, value)
	}
	if at.Before(now.Add(-r.opts.Retention)) || at.After(now.Add(maxFuture)) {
		return fmt.Errorf("%w: %s: %s is outside [now-%s, now+%s]", ErrInvalidTime, name,
			at.UTC().Format(time.RFC3339), r.opts.Retention, maxFuture)
	}
	return nil
}

// validName checks a metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
func validName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c == ':' || c|0x20 >= 'a' && c|0x20 <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return fmt.Errorf("%w: %q (want [a-zA-Z_:][a-zA-Z0-9_:]*)", ErrInvalidName, name)
	}
	return nil
}

// validLabels checks label names ([a-zA-Z_][a-zA-Z0-9_]*, not starting with
// "__", which is reserved) and that values are UTF-8.
func validLabels(labels alert.Labels) error {
	for k, v := range labels {
		if k == "" || strings.HasPrefix(k, "__") {
			return fmt.Errorf("%w: name %q", ErrInvalidLabel, k)
		}
		for i := 0; i < len(k); i++ {
			c := k[i]
			if c == '_' || c|0x20 >= 'a' && c|0x20 <= 'z' || i > 0 && c >= '0' && c <= '9' {
				continue
			}
			return fmt.Errorf("%w: name %q (want [a-zA-Z_][a-zA-Z0-9_]*)", ErrInvalidLabel, k)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("%w: %s has a value that is not UTF-8", ErrInvalidLabel, k)
		}
	}
	return nil
}
