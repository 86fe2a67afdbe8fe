package metric

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Benchmarks of the recording hot path use the real clock (time.Now), as
// production does. Run with -cpu 1,2: the Parallel variants record into one
// series from every P, which is where lock contention would show.

func BenchmarkCounterInc(b *testing.B) {
	c := NewRegistry(&Options{NoRuntime: true}).Counter("c", alert.Labels{"tool": "search"})
	b.ReportAllocs()
	for b.Loop() {
		c.Inc()
	}
}

func BenchmarkCounterIncParallel(b *testing.B) {
	c := NewRegistry(&Options{NoRuntime: true}).Counter("c", alert.Labels{"tool": "search"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkHistogramObserve(b *testing.B) {
	h := NewRegistry(&Options{NoRuntime: true}).Histogram("h", nil)
	b.ReportAllocs()
	v := 1.0
	for b.Loop() {
		h.Observe(v)
		if v += 0.37; v > 100 {
			v = 1
		}
	}
}

func BenchmarkHistogramObserveParallel(b *testing.B) {
	h := NewRegistry(&Options{NoRuntime: true}).Histogram("h", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		v := 1.0
		for pb.Next() {
			h.Observe(v)
			if v += 0.37; v > 100 {
				v = 1
			}
		}
	})
}

func BenchmarkGaugeSet(b *testing.B) {
	g := NewRegistry(&Options{NoRuntime: true}).Gauge("g", nil)
	b.ReportAllocs()
	for b.Loop() {
		g.Set(42)
	}
}

func BenchmarkRecordRequest(b *testing.B) {
	r := NewRegistry(&Options{NoRuntime: true})
	labels := alert.Labels{"tool": "search", "server": "mcp"}
	r.RecordRequest(labels, time.Millisecond, false)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.RecordRequest(labels, time.Duration(i%5000)*time.Microsecond, i%50 == 0)
	}
}

func BenchmarkRecordRequestParallel(b *testing.B) {
	r := NewRegistry(&Options{NoRuntime: true})
	labels := alert.Labels{"tool": "search", "server": "mcp"}
	r.RecordRequest(labels, time.Millisecond, false)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			r.RecordRequest(labels, time.Duration(i%5000)*time.Microsecond, i%50 == 0)
		}
	})
}

func BenchmarkRequestRecorder(b *testing.B) {
	q := NewRegistry(&Options{NoRuntime: true}).Requests(alert.Labels{"tool": "search"})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		q.Record(time.Duration(i%5000)*time.Microsecond, i%50 == 0)
	}
}

func BenchmarkRequestRecorderParallel(b *testing.B) {
	q := NewRegistry(&Options{NoRuntime: true}).Requests(alert.Labels{"tool": "search"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			q.Record(time.Duration(i%5000)*time.Microsecond, i%50 == 0)
		}
	})
}

// BenchmarkQuery is one evaluation cycle of 10,000 rules over 10,000 series:
// 1,000 names with 10 series each (label inst), every rule selecting one
// series by equality over a 5m window. Five names in six are gauges asked
// Last, Avg, Max, Rate or Sum; the sixth is a histogram asked P99. Ten
// minutes of data, a sample per series every 5 s. One op is the whole cycle
// (budget 10 ms).
func BenchmarkQuery(b *testing.B) {
	c := &fakeClock{t: t0}
	r := NewRegistry(&Options{Now: c.Now, NoRuntime: true})
	const names, per = 1000, 10
	type rule struct {
		name string
		sel  alert.Matchers
		fn   Func
	}
	fns := []Func{Last, Avg, Max, Rate, Sum, P99}
	var rules []rule
	var record []func(v float64)
	for n := range names {
		name := "m" + strconv.Itoa(n)
		fn := fns[n%len(fns)]
		for i := range per {
			inst := strconv.Itoa(i)
			lbl := alert.Labels{"inst": inst, "job": "api"}
			if fn == P99 {
				record = append(record, r.Histogram(name, lbl).Observe)
			} else {
				record = append(record, r.Gauge(name, lbl).Set)
			}
			m, err := alert.NewMatcher("inst", alert.MatchEqual, inst)
			if err != nil {
				b.Fatal(err)
			}
			rules = append(rules, rule{name: name, sel: alert.Matchers{m}, fn: fn})
		}
	}
	for s := 0; s <= 600; s += 5 {
		c.Set(at(float64(s)))
		for j, rec := range record {
			rec(float64(j%100 + s))
		}
	}
	now := at(600)
	cycle := func() int {
		found := 0
		for i := range rules {
			found += len(r.Query(rules[i].name, rules[i].sel, rules[i].fn, 5*time.Minute, now))
		}
		return found
	}
	if found := cycle(); found != len(rules) { // also builds the label indexes
		b.Fatalf("found %d results for %d rules", found, len(rules))
	}
	runtime.GC() // the setup's garbage is not the queries' cost
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cycle()
	}
}

// BenchmarkQueryOne is a single query: the average of one series over 5m
// among 10 series of its name, selected by equality.
func BenchmarkQueryOne(b *testing.B) {
	c := &fakeClock{t: t0}
	r := NewRegistry(&Options{Now: c.Now, NoRuntime: true})
	var gs []*Gauge
	for i := range 10 {
		gs = append(gs, r.Gauge("m", alert.Labels{"inst": strconv.Itoa(i)}))
	}
	for s := 0; s <= 600; s += 5 {
		c.Set(at(float64(s)))
		for _, g := range gs {
			g.Set(float64(s))
		}
	}
	m, err := alert.NewMatcher("inst", alert.MatchEqual, "3")
	if err != nil {
		b.Fatal(err)
	}
	sel := alert.Matchers{m}
	now := at(600)
	b.ReportAllocs()
	for b.Loop() {
		if len(r.Query("m", sel, Avg, 5*time.Minute, now)) != 1 {
			b.Fatal("no result")
		}
	}
}
