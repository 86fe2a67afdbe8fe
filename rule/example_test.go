package rule_test

import (
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
	"github.com/klaxonhq/klaxon/rule"
)

// staticQuerier answers every query with fixed values per metric name.
type staticQuerier map[string]float64

func (s staticQuerier) Query(name string, _ alert.Matchers, _ metric.Func, _ time.Duration, _ time.Time) []metric.Result {
	if v, ok := s[name]; ok {
		return []metric.Result{{Value: v}}
	}
	return nil
}

func ExampleParse() {
	e, err := rule.Parse(`p99(response_time{tool="search"}[5m]) > 2000 or error_rate>0.05`)
	fmt.Println(e, err)
	_, err = rule.Parse("avg(response_time[5m > 500")
	fmt.Println(err)
	// Output:
	// p99(response_time{tool="search"}[5m]) > 2000 or error_rate > 0.05 <nil>
	// col 22: expected ']' after window duration, found '>'
}

func ExampleEvaluator() {
	q := staticQuerier{"error_rate": 0.08}
	ev := rule.NewEvaluator(q, nil)
	_ = ev.SetRules([]*rule.Rule{{
		ID: "high_error_rate", Condition: "error_rate > 0.05", For: time.Minute, Severity: alert.Critical,
	}})
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range []float64{0.08, 0.09, 0.01} {
		q["error_rate"] = v
		for _, r := range ev.Eval(start.Add(time.Duration(i) * time.Minute)) {
			fmt.Println(r.Labels["alertname"], r.State, r.Value, *r.Threshold)
		}
	}
	// Output:
	// high_error_rate pending 0.08 0.05
	// high_error_rate firing 0.09 0.05
	// high_error_rate inactive 0.01 0.05
}
