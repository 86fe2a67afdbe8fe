//go:build unix

package rule

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

// BenchmarkEval10000RulesRegistry evaluates 10,000 rules against the real
// metric registry holding 1,000 gauge series (100 metrics x 10 tools, a
// sample every 10 s for 5 minutes). ns/op includes the registry's own work
// (window aggregation, percentiles).
func BenchmarkEval10000RulesRegistry(b *testing.B) {
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	reg := metric.NewRegistry(&metric.Options{Now: now, NoRuntime: true})
	b.Cleanup(reg.Close)

	const metrics, tools = 100, 10
	rng := rand.New(rand.NewPCG(5, 6))
	gauges := make([]*metric.Gauge, 0, metrics*tools)
	for m := range metrics {
		for tl := range tools {
			gauges = append(gauges, reg.Gauge(fmt.Sprintf("g%d", m), alert.Labels{"tool": fmt.Sprintf("t%d", tl)}))
		}
	}
	for step := range 30 {
		clock.Store(t0.Add(time.Duration(step) * 10 * time.Second).UnixNano())
		for _, g := range gauges {
			g.Set(rng.Float64() * 100)
		}
	}

	rules := make([]*Rule, 10000)
	for i := range rules {
		m := fmt.Sprintf("g%d", i%metrics)
		var cond string
		switch i % 6 {
		case 0:
			cond = m + " > 90"
		case 1:
			cond = fmt.Sprintf("avg(%s[5m]) > 60", m)
		case 2:
			cond = fmt.Sprintf(`p99(%s{tool="t1"}[5m]) > 95`, m)
		case 3:
			cond = fmt.Sprintf(`max(%s{tool=~"t[12]"}[1m]) >= 80`, m)
		case 4:
			cond = fmt.Sprintf(`%s{tool!="t0"} > 50 and avg(%s[5m]) > 45`, m, m)
		case 5:
			cond = fmt.Sprintf("absent(%s[2m]) or %s > 95", m, m)
		}
		rules[i] = &Rule{ID: fmt.Sprintf("rule_%d", i), Condition: cond, For: time.Minute, Severity: alert.High}
	}
	ev := NewEvaluator(reg, nil)
	if err := ev.SetRules(rules); err != nil {
		b.Fatal(err)
	}
	at := now()
	out := ev.Eval(at)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for b.Loop() {
		out = ev.EvalAppend(out[:0], at)
	}
	cpu.report(b)
	b.ReportMetric(float64(len(out)), "results/cycle")
}
