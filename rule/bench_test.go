//go:build unix

package rule

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

// benchQuerier answers from maps precomputed per query, so the benchmark
// measures the evaluator, not the fake. Queries are keyed by metric,
// function and the address of the rule's first matcher (stable because rules
// keep their Expr).
type benchQuerier struct {
	answers map[benchKey][]metric.Result
	series  map[benchSeriesKey][]metric.Result // metric+fn -> all series
}

type benchKey struct {
	name *byte // the rule's metric name string, stable like its matchers
	fn   metric.Func
	sel  *alert.Matcher
}

type benchSeriesKey struct {
	name string
	fn   metric.Func
}

func (b *benchQuerier) Query(name string, sel alert.Matchers, fn metric.Func, _ time.Duration, _ time.Time) []metric.Result {
	k := benchKey{name: unsafe.StringData(name), fn: fn}
	if len(sel) > 0 {
		k.sel = &sel[0]
	}
	if rs, ok := b.answers[k]; ok {
		return rs
	}
	// First call for this query: filter once and remember.
	var out []metric.Result
	for _, r := range b.series[benchSeriesKey{name, fn}] {
		if sel.Matches(r.Labels) {
			out = append(out, r)
		}
	}
	b.answers[k] = out
	return out
}

// benchSetup builds 10,000 rules over 1,000 metrics with 5 labelled series
// each (5,000 series per function), about 10% breaching.
func benchSetup(b *testing.B) (*Evaluator, *benchQuerier) {
	rng := rand.New(rand.NewPCG(1, 2))
	q := &benchQuerier{answers: map[benchKey][]metric.Result{}, series: map[benchSeriesKey][]metric.Result{}}
	const metrics, perMetric = 1000, 5
	for m := range metrics {
		name := fmt.Sprintf("m%d", m)
		for _, fn := range []metric.Func{metric.Last, metric.Avg, metric.P99, metric.Rate, metric.Count} {
			rs := make([]metric.Result, perMetric)
			for s := range perMetric {
				rs[s] = metric.Result{Labels: alert.Labels{"tool": fmt.Sprintf("t%d", s), "service": "api"}, Value: rng.Float64() * 100}
			}
			q.series[benchSeriesKey{name, fn}] = rs
		}
	}
	rules := make([]*Rule, 10000)
	for i := range rules {
		m := fmt.Sprintf("m%d", i%metrics)
		var cond string
		switch i % 6 {
		case 0:
			cond = fmt.Sprintf("%s > 90", m)
		case 1:
			cond = fmt.Sprintf("avg(%s[5m]) > 90", m)
		case 2:
			cond = fmt.Sprintf(`p99(%s{tool="t1"}[5m]) > 50`, m)
		case 3:
			cond = fmt.Sprintf(`rate(%s{tool=~"t[12]"}[1m]) >= 80`, m)
		case 4:
			cond = fmt.Sprintf(`%s{tool!="t0"} > 50 and avg(%s[5m]) > 30`, m, m)
		case 5:
			cond = fmt.Sprintf("absent(%s[2m]) or %s > 95", m, m)
		}
		rules[i] = &Rule{ID: fmt.Sprintf("rule_%d", i), Condition: cond, For: time.Minute, Severity: alert.High,
			Labels: alert.Labels{"team": "bench"}}
	}
	ev := NewEvaluator(q, nil)
	if err := ev.SetRules(rules); err != nil {
		b.Fatal(err)
	}
	return ev, q
}

// BenchmarkEval10000Rules measures one evaluation cycle of 10,000 rules in
// steady state (ns/op is the time per cycle; budget 10 ms).
func BenchmarkEval10000Rules(b *testing.B) {
	ev, _ := benchSetup(b)
	now := t0
	// Warm up: create the series and reach the firing state.
	ev.Eval(now)
	now = now.Add(2 * time.Minute)
	n := len(ev.Eval(now))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for b.Loop() {
		now = now.Add(time.Second)
		ev.Eval(now)
	}
	cpu.report(b)
	b.ReportMetric(float64(n), "results/cycle")
}

// BenchmarkEval10000RulesReuse is BenchmarkEval10000Rules with the result
// slice reused through EvalAppend, as the engine's loop does.
func BenchmarkEval10000RulesReuse(b *testing.B) {
	ev, _ := benchSetup(b)
	now := t0
	out := ev.Eval(now)
	now = now.Add(2 * time.Minute)
	out = ev.EvalAppend(out[:0], now)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for b.Loop() {
		now = now.Add(time.Second)
		out = ev.EvalAppend(out[:0], now)
	}
	cpu.report(b)
	b.ReportMetric(float64(len(out)), "results/cycle")
}

// BenchmarkEval10000RulesChurn is the same with 1% of all series changing
// sides every cycle, so series start, go pending and resolve continuously.
func BenchmarkEval10000RulesChurn(b *testing.B) {
	ev, q := benchSetup(b)
	var cached []*metric.Result
	now := t0
	ev.Eval(now)
	for _, rs := range q.answers {
		for i := range rs {
			cached = append(cached, &rs[i])
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	defer cpu.report(b)
	for b.Loop() {
		for range len(cached) / 100 {
			r := cached[rng.IntN(len(cached))]
			r.Value = 100 - r.Value
		}
		now = now.Add(30 * time.Second)
		ev.Eval(now)
	}
}

// cpuClock measures the process's CPU time (user+system, all threads,
// GC included) across a benchmark loop. On this shared machine wall time
// (ns/op) inflates with the load of other processes; CPU time per cycle is
// the figure to compare with the budget.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{start: processCPU()} }

func (c cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
	}
}
