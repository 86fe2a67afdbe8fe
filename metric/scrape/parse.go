// Package scrape reads Prometheus metrics pages (the text exposition format
// every exporter serves) into klaxon's metric registry, so rules can watch a
// node_exporter, a database exporter or any instrumented service by metric
// name and labels.
//
// Gauges, untyped values and summary quantiles become gauges. Counters (and
// the _sum, _count and _bucket series of summaries and histograms) become
// counters that grow by what the exporter's counter grew between two
// scrapes, so rate() and sum() over a window give the increase per second
// and the increase, as in PromQL; a counter that goes down was reset and
// counts from its new value. The first scrape of a counter only sets its
// baseline.
package scrape

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/klaxonhq/klaxon/alert"
)

// Sample is one value read from a metrics page.
type Sample struct {
	Name   string
	Labels alert.Labels
	Value  float64
	// Counter is true for cumulative values (counters, and the sums,
	// counts and buckets of summaries and histograms).
	Counter bool
}

// Parse reads a page in the Prometheus text format. Samples whose value is
// NaN or infinite (a summary quantile with no observations, the +Inf
// bucket's bound is a label, not a value) are left out.
func Parse(r io.Reader) ([]Sample, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	// The format's last line ends with a newline, but pages that lack it
	// are common and Prometheus reads them.
	families, err := p.TextToMetricFamilies(io.MultiReader(r, strings.NewReader("\n")))
	if err != nil {
		return nil, fmt.Errorf("parse metrics page: %w", err)
	}
	var out []Sample
	add := func(name string, labels alert.Labels, v float64, counter bool) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		out = append(out, Sample{Name: name, Labels: labels, Value: v, Counter: counter})
	}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := labelsOf(m)
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(name, labels, m.GetCounter().GetValue(), true)
			case dto.MetricType_GAUGE:
				add(name, labels, m.GetGauge().GetValue(), false)
			case dto.MetricType_UNTYPED:
				add(name, labels, m.GetUntyped().GetValue(), false)
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add(name, with(labels, "quantile", formatFloat(q.GetQuantile())), q.GetValue(), false)
				}
				add(name+"_sum", labels, s.GetSampleSum(), true)
				add(name+"_count", labels, float64(s.GetSampleCount()), true)
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				// A histogram with any count that is not a whole number has
				// all of them in the float fields.
				for _, b := range h.GetBucket() {
					n := float64(b.GetCumulativeCount())
					if b.CumulativeCountFloat != nil {
						n = b.GetCumulativeCountFloat()
					}
					add(name+"_bucket", with(labels, "le", formatFloat(b.GetUpperBound())), n, true)
				}
				add(name+"_sum", labels, h.GetSampleSum(), true)
				n := float64(h.GetSampleCount())
				if h.SampleCountFloat != nil {
					n = h.GetSampleCountFloat()
				}
				add(name+"_count", labels, n, true)
			}
		}
	}
	return out, nil
}

func labelsOf(m *dto.Metric) alert.Labels {
	if len(m.GetLabel()) == 0 {
		return nil
	}
	l := make(alert.Labels, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		l[lp.GetName()] = lp.GetValue()
	}
	return l
}

// with returns a copy of l with k=v added.
func with(l alert.Labels, k, v string) alert.Labels {
	out := make(alert.Labels, len(l)+1)
	for lk, lv := range l {
		out[lk] = lv
	}
	out[k] = v
	return out
}

// formatFloat writes bounds and quantiles as Prometheus does ("0.5",
// "+Inf").
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
