package rule

import (
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

// memoKey identifies a query within one cycle.
type memoKey struct {
	metric, sel string
	fn          metric.Func
	window      time.Duration
}

// query asks the Querier once per cycle for each distinct question. Must
// hold e.mu.
func (e *Evaluator) query(q *Query, fn metric.Func, now time.Time) []metric.Result {
	if e.memo == nil {
		e.memo = map[memoKey][]metric.Result{}
		e.selKeys = map[*Query]string{}
	}
	sk, ok := e.selKeys[q]
	if !ok {
		sk = selectorKey(q.Matchers)
		e.selKeys[q] = sk
	}
	k := memoKey{metric: q.Metric, sel: sk, fn: fn, window: q.Window}
	if r, ok := e.memo[k]; ok {
		return r
	}
	r := e.q.Query(q.Metric, q.Matchers, fn, q.Window, now)
	e.memo[k] = r
	return r
}

func selectorKey(ms alert.Matchers) string {
	if len(ms) == 0 {
		return ""
	}
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.String())
		b.WriteByte(',')
	}
	return b.String()
}
