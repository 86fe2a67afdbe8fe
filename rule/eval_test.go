package rule

import (
	"math"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

// fakeQuerier answers from a map keyed by "metric" (metric.Last) or
// "func(metric)" and applies the matchers itself.
type fakeQuerier struct {
	data map[string][]metric.Result
}

func newFake() *fakeQuerier { return &fakeQuerier{data: map[string][]metric.Result{}} }

func fakeKey(name string, fn metric.Func) string {
	if fn == metric.Last {
		return name
	}
	return fn.String() + "(" + name + ")"
}

func (f *fakeQuerier) Query(name string, sel alert.Matchers, fn metric.Func, _ time.Duration, _ time.Time) []metric.Result {
	var out []metric.Result
	for _, r := range f.data[fakeKey(name, fn)] {
		if sel.Matches(r.Labels) {
			out = append(out, r)
		}
	}
	return out
}

// set replaces the series of key with the given label/value pairs.
func (f *fakeQuerier) set(key string, rs ...metric.Result) { f.data[key] = rs }

func res(v float64, kv ...string) metric.Result {
	var l alert.Labels
	if len(kv) > 0 {
		l = alert.Labels{}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
	}
	return metric.Result{Labels: l, Value: v}
}

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

type testBundle struct {
	q  *fakeQuerier
	ev *Evaluator
}

func setup(t *testing.T, rules ...*Rule) testBundle {
	t.Helper()
	q := newFake()
	ev := NewEvaluator(q, nil)
	require.NoError(t, ev.SetRules(rules))
	return testBundle{q: q, ev: ev}
}

// states summarises results as "state" per series label value of key, or
// "state" alone for a single result.
func states(rs []Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.State.String()
	}
	return out
}

func TestEvaluator_ThresholdFiresAndResolves(t *testing.T) {
	t.Parallel()
	r := &Rule{ID: "high_error_rate", Condition: "error_rate > 0.05", Severity: alert.Critical,
		Labels: alert.Labels{"team": "api", "tool": "overridden"}}
	b := setup(t, r)
	b.q.set("error_rate", metric.Result{Labels: alert.Labels{"tool": "search"}, Value: 0.1, Metadata: map[string]string{"unit": "ratio"}})

	got := b.ev.Eval(t0)
	require.Len(t, got, 1)
	wantLabels := alert.Labels{"alertname": "high_error_rate", "team": "api", "tool": "overridden"}
	require.Equal(t, Result{
		Rule: r, Labels: wantLabels, Fingerprint: alert.NewFingerprint("high_error_rate", wantLabels),
		Value: 0.1, Threshold: got[0].Threshold, State: Firing, Kept: Firing, Since: t0, ActiveAt: t0,
		Metadata: map[string]string{"unit": "ratio"},
	}, got[0])
	require.NotNil(t, got[0].Threshold)
	require.Equal(t, 0.05, *got[0].Threshold)

	// Still breaching: still firing since t0.
	got = b.ev.Eval(t0.Add(time.Minute))
	require.Len(t, got, 1)
	require.Equal(t, Firing, got[0].State)
	require.Equal(t, t0, got[0].Since)

	// Clears: reported Inactive once with the clearing value, then forgotten.
	b.q.set("error_rate", metric.Result{Labels: alert.Labels{"tool": "search"}, Value: 0.01})
	got = b.ev.Eval(t0.Add(2 * time.Minute))
	require.Len(t, got, 1)
	require.Equal(t, Inactive, got[0].State)
	require.Equal(t, 0.01, got[0].Value)
	require.Equal(t, t0.Add(2*time.Minute), got[0].Since)
	require.Empty(t, b.ev.Eval(t0.Add(3*time.Minute)))
}

func TestEvaluator_For(t *testing.T) {
	t.Parallel()
	b := setup(t, &Rule{ID: "slow", Condition: "avg(response_time[5m]) > 500", For: time.Minute, Severity: alert.High})
	b.q.set("avg(response_time)", res(700))

	tests := []struct {
		at    time.Duration
		value float64
		want  State
		since time.Duration
	}{
		{0, 700, Pending, 0},                              // breach starts the For clock
		{30 * time.Second, 800, Pending, 0},               // not yet
		{time.Minute, 800, Firing, time.Minute},           // For elapsed: firing since now
		{2 * time.Minute, 900, Firing, time.Minute},       // keeps firing
		{3 * time.Minute, 100, Inactive, 3 * time.Minute}, // clears
	}
	for _, tt := range tests {
		b.q.set("avg(response_time)", res(tt.value))
		got := b.ev.Eval(t0.Add(tt.at))
		require.Len(t, got, 1, "at %v", tt.at)
		require.Equal(t, tt.want, got[0].State, "at %v", tt.at)
		require.Equal(t, t0.Add(tt.since), got[0].Since, "at %v", tt.at)
		require.Equal(t, tt.value, got[0].Value)
	}

	// A pending series that clears before For never fires, and a new breach
	// starts a fresh clock.
	b.q.set("avg(response_time)", res(600))
	require.Equal(t, []string{"pending"}, states(b.ev.Eval(t0.Add(10*time.Minute))))
	b.q.set("avg(response_time)", res(100))
	require.Equal(t, []string{"inactive"}, states(b.ev.Eval(t0.Add(10*time.Minute+30*time.Second))))
	b.q.set("avg(response_time)", res(600))
	got := b.ev.Eval(t0.Add(11 * time.Minute))
	require.Equal(t, Pending, got[0].State)
	require.Equal(t, t0.Add(11*time.Minute), got[0].Since)
}

func TestEvaluator_HoldDampsFlapping(t *testing.T) {
	t.Parallel()
	b := setup(t, &Rule{ID: "flappy", Condition: "cpu_usage > 90", Hold: 2 * time.Minute, Severity: alert.Medium})
	// value per 30 s cycle: breach, clear, breach, clear, clear ... (flapping, then a steady clear)
	seq := []struct {
		value float64
		want  State
	}{
		{95, Firing},   // fires (For 0)
		{50, Firing},   // clear 0s: held
		{95, Firing},   // breach again: hold restarts
		{50, Firing},   // clear 0s
		{50, Firing},   // clear 30s
		{50, Firing},   // clear 60s
		{50, Firing},   // clear 90s
		{50, Inactive}, // clear 120s = Hold: resolves
	}
	for i, s := range seq {
		b.q.set("cpu_usage", res(s.value))
		got := b.ev.Eval(t0.Add(time.Duration(i) * 30 * time.Second))
		require.Len(t, got, 1, "cycle %d", i)
		require.Equal(t, s.want, got[0].State, "cycle %d", i)
		if s.want == Firing {
			require.Equal(t, t0, got[0].Since, "firing since the first breach, cycle %d", i)
		}
	}
	require.Empty(t, b.ev.Eval(t0.Add(5*time.Minute)))
}

func TestEvaluator_Recovery(t *testing.T) {
	t.Parallel()
	b := setup(t, &Rule{ID: "disk", Condition: "disk_usage > 90", Recovery: MustParse("disk_usage < 70"),
		Severity: alert.High})
	seq := []struct {
		value float64
		want  State
	}{
		{95, Firing},   // fires
		{80, Firing},   // condition false but not recovered: keeps firing
		{92, Firing},   // breaching again
		{75, Firing},   // still above the recovery level
		{60, Inactive}, // recovered
	}
	for i, s := range seq {
		b.q.set("disk_usage", res(s.value, "mount", "/"))
		got := b.ev.Eval(t0.Add(time.Duration(i) * time.Minute))
		require.Len(t, got, 1, "cycle %d", i)
		require.Equal(t, s.want, got[0].State, "cycle %d", i)
		require.Equal(t, s.value, got[0].Value)
	}
}

func TestEvaluator_RecoveryWithHold(t *testing.T) {
	t.Parallel()
	b := setup(t, &Rule{ID: "disk", Condition: "disk_usage > 90", Recovery: MustParse("disk_usage < 70"),
		Hold: time.Minute, Severity: alert.High})
	seq := []struct {
		value float64
		want  State
	}{
		{95, Firing},   // fires
		{60, Firing},   // recovered: hold starts
		{80, Firing},   // not recovered any more: hold resets
		{60, Firing},   // recovered: hold starts again
		{60, Inactive}, // one minute recovered
	}
	for i, s := range seq {
		b.q.set("disk_usage", res(s.value))
		got := b.ev.Eval(t0.Add(time.Duration(i) * time.Minute))
		require.Len(t, got, 1, "cycle %d", i)
		require.Equal(t, s.want, got[0].State, "cycle %d", i)
	}
}

func TestEvaluator_Absent(t *testing.T) {
	t.Parallel()
	b := setup(t, &Rule{ID: "heartbeat_missing", Condition: "absent(heartbeat[2m])", Severity: alert.Critical})

	got := b.ev.Eval(t0)
	require.Len(t, got, 1)
	require.Equal(t, Firing, got[0].State)
	require.Equal(t, 1.0, got[0].Value)
	require.Equal(t, alert.Labels{"alertname": "heartbeat_missing"}, got[0].Labels)
	require.Nil(t, got[0].Threshold, "absent has no threshold")

	b.q.set("count(heartbeat)", res(3, "instance", "a"))
	got = b.ev.Eval(t0.Add(time.Minute))
	require.Equal(t, []string{"inactive"}, states(got))
	require.Equal(t, 0.0, got[0].Value)
	require.Empty(t, b.ev.Eval(t0.Add(2*time.Minute)))
}

func TestEvaluator_Selectors(t *testing.T) {
	t.Parallel()
	b := setup(t, &Rule{ID: "search_errors", Condition: `tool_errors{tool=~"search|fetch", env!="dev"} > 5`, Severity: alert.Low})
	b.q.set("tool_errors",
		res(10, "tool", "search", "env", "prod"), // breaches
		res(10, "tool", "search", "env", "dev"),  // excluded by env
		res(10, "tool", "other", "env", "prod"),  // excluded by tool
		res(2, "tool", "fetch", "env", "prod"),   // selected but below
		res(7, "tool", "fetch", "env", "stage"),  // breaches
	)
	got := b.ev.Eval(t0)
	require.Len(t, got, 2)
	require.Equal(t, "search", got[0].Labels["tool"])
	require.Equal(t, "prod", got[0].Labels["env"])
	require.Equal(t, "fetch", got[1].Labels["tool"])
	require.Equal(t, "stage", got[1].Labels["env"])
	require.NotEqual(t, got[0].Fingerprint, got[1].Fingerprint)
}

func TestEvaluator_AndOr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cond string
		data map[string][]metric.Result
		want map[string]float64 // firing series (label "t" or "" for unlabelled) -> value
	}{
		{
			// Pairs by identical labels; only pairs where both breach fire.
			name: "and matches labels",
			cond: "errors > 1 and calls > 100",
			data: map[string][]metric.Result{
				"errors": {res(5, "t", "a"), res(5, "t", "b"), res(5, "t", "c")},
				"calls":  {res(500, "t", "a"), res(50, "t", "b")},
			},
			want: map[string]float64{"a": 5},
		},
		{
			// An unlabelled right side broadcasts to every left series.
			name: "and broadcasts unlabelled right",
			cond: "errors > 1 and error_rate > 0.05",
			data: map[string][]metric.Result{
				"errors":     {res(5, "t", "a"), res(0, "t", "b"), res(7, "t", "c")},
				"error_rate": {res(0.1)},
			},
			want: map[string]float64{"a": 5, "c": 7},
		},
		{
			// An unlabelled left side broadcasts too, taking the right side's labels and the left value.
			name: "and broadcasts unlabelled left",
			cond: "error_rate > 0.05 and errors > 1",
			data: map[string][]metric.Result{
				"errors":     {res(5, "t", "a"), res(0, "t", "b")},
				"error_rate": {res(0.1)},
			},
			want: map[string]float64{"a": 0.1},
		},
		{
			// absent() is unlabelled, so it gates every series.
			name: "and absent",
			cond: "errors > 1 and absent(heartbeat[1m])",
			data: map[string][]metric.Result{
				"errors": {res(5, "t", "a")},
			},
			want: map[string]float64{"a": 5},
		},
		{
			// absent() false: nothing fires.
			name: "and absent present",
			cond: "errors > 1 and absent(heartbeat[1m])",
			data: map[string][]metric.Result{
				"errors":           {res(5, "t", "a")},
				"count(heartbeat)": {res(2)},
			},
			want: map[string]float64{},
		},
		{
			// Union by labels; the breaching side's value wins.
			name: "or union",
			cond: "errors > 10 or calls > 100",
			data: map[string][]metric.Result{
				"errors": {res(50, "t", "a"), res(1, "t", "b"), res(20, "t", "c")},
				"calls":  {res(500, "t", "b"), res(500, "t", "c"), res(500, "t", "d")},
			},
			want: map[string]float64{"a": 50, "b": 500, "c": 20, "d": 500},
		},
		{
			// and binds tighter than or.
			name: "precedence",
			cond: "a > 1 or b > 1 and c > 1",
			data: map[string][]metric.Result{
				"a": {res(0)},
				"b": {res(2)},
				"c": {res(0)},
			},
			want: map[string]float64{},
		},
		{
			// Parentheses change it.
			name: "parentheses",
			cond: "(a > 1 or b > 1) and c > 1",
			data: map[string][]metric.Result{
				"a": {res(0)},
				"b": {res(2)},
				"c": {res(2)},
			},
			want: map[string]float64{"": 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, &Rule{ID: "r", Condition: tt.cond, Severity: alert.Info})
			b.q.data = tt.data
			got := map[string]float64{}
			for _, r := range b.ev.Eval(t0) {
				require.Equal(t, Firing, r.State)
				require.Nil(t, r.Threshold, "and/or has no single threshold")
				got[r.Labels["t"]] = r.Value
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEvaluator_AndPartnerWithoutDataIsNoData(t *testing.T) {
	t.Parallel()
	b := setup(t, &Rule{ID: "r", Condition: "errors > 1 and calls > 100", Severity: alert.Info})
	b.q.set("errors", res(5, "t", "a"))
	b.q.set("calls", res(500, "t", "a"))
	require.Equal(t, []string{"firing"}, states(b.ev.Eval(t0)))
	b.q.set("calls") // calls has no data: the pair drops out
	got := b.ev.Eval(t0.Add(time.Minute))
	require.Equal(t, []string{"nodata"}, states(got))
	require.Equal(t, Firing, got[0].Kept)
}

func TestEvaluator_NoData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mode NoDataMode
		for_ time.Duration
		want []State // the gap's two cycles, then data returns breaching
		kept State
		gone bool // forgotten after the first gap cycle
	}{
		// keep (the default): NoData keeping Firing, then Firing again with the original since.
		{name: "keep", mode: "", want: []State{NoData, NoData, Firing}, kept: Firing},
		// resolve: Inactive once, then a fresh series fires.
		{name: "resolve", mode: NoDataResolve, want: []State{Inactive}, gone: true},
		// alert: keeps firing through the gap.
		{name: "alert", mode: NoDataAlert, want: []State{Firing, Firing, Firing}, kept: Firing},
		// alert on a pending series fires it.
		{name: "alert pending", mode: NoDataAlert, for_: time.Hour, want: []State{Firing, Firing, Firing}, kept: Firing},
		// keep on a pending series keeps it pending.
		{name: "keep pending", mode: NoDataKeep, for_: time.Hour, want: []State{NoData, NoData, Pending}, kept: Pending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, &Rule{ID: "mem", Condition: "memory_usage > 1000", For: tt.for_, NoData: tt.mode, Severity: alert.High})
			b.q.set("memory_usage", res(2000, "host", "h1"))
			first := b.ev.Eval(t0)
			require.Len(t, first, 1)

			b.q.set("memory_usage")
			got := b.ev.Eval(t0.Add(time.Minute))
			require.Len(t, got, 1)
			require.Equal(t, tt.want[0], got[0].State)
			require.Equal(t, 2000.0, got[0].Value, "last value seen")
			require.Equal(t, first[0].Fingerprint, got[0].Fingerprint)
			if tt.gone {
				require.Empty(t, b.ev.Eval(t0.Add(2*time.Minute)))
				return
			}
			if got[0].State == NoData {
				require.Equal(t, tt.kept, got[0].Kept)
				require.Equal(t, t0.Add(time.Minute), got[0].Since, "since data went missing")
			}
			got = b.ev.Eval(t0.Add(2 * time.Minute))
			require.Equal(t, tt.want[1], got[0].State)
			if got[0].State == NoData {
				require.Equal(t, t0.Add(time.Minute), got[0].Since)
			}

			b.q.set("memory_usage", res(2000, "host", "h1"))
			got = b.ev.Eval(t0.Add(3 * time.Minute))
			require.Len(t, got, 1)
			require.Equal(t, tt.want[2], got[0].State)
			require.Equal(t, t0, got[0].ActiveAt, "the episode continues")
		})
	}
}

func TestEvaluator_SetRulesKeepsState(t *testing.T) {
	t.Parallel()
	slow := &Rule{ID: "slow", Condition: "response_time > 500", For: time.Minute, Severity: alert.High}
	b := setup(t, slow)
	b.q.set("response_time", res(900))
	require.Equal(t, []string{"pending"}, states(b.ev.Eval(t0)))

	// Same id and condition (written differently), new labels: state kept, labels recomputed.
	same := &Rule{ID: "slow", Condition: "response_time>500", For: time.Minute, Severity: alert.High, Labels: alert.Labels{"team": "x"}}
	require.NoError(t, b.ev.SetRules([]*Rule{same}))
	got := b.ev.Eval(t0.Add(time.Minute))
	// The old fingerprint (no team label) is retired and the kept series fires under the new labels.
	require.Len(t, got, 2)
	require.Equal(t, Firing, got[0].State)
	require.Equal(t, same, got[0].Rule)
	require.Equal(t, "x", got[0].Labels["team"])
	require.Equal(t, t0, got[0].ActiveAt)
	require.Equal(t, Inactive, got[1].State)
	require.Equal(t, slow, got[1].Rule)

	// Changed condition: state starts over; the firing series is not resolved because the new rule reports it.
	changed := &Rule{ID: "slow", Condition: "response_time > 800", For: time.Minute, Severity: alert.High, Labels: alert.Labels{"team": "x"}}
	require.NoError(t, b.ev.SetRules([]*Rule{changed}))
	got = b.ev.Eval(t0.Add(2 * time.Minute))
	require.Len(t, got, 1)
	require.Equal(t, Pending, got[0].State)
	require.Equal(t, t0.Add(2*time.Minute), got[0].ActiveAt)

	// Removed rule: its series are reported Inactive once.
	require.NoError(t, b.ev.SetRules(nil))
	got = b.ev.Eval(t0.Add(3 * time.Minute))
	require.Len(t, got, 1)
	require.Equal(t, Inactive, got[0].State)
	require.Equal(t, changed, got[0].Rule)
	require.Empty(t, b.ev.Eval(t0.Add(4*time.Minute)))
}

func TestEvaluator_SetRulesRejects(t *testing.T) {
	t.Parallel()
	b := setup(t, &Rule{ID: "ok", Condition: "x > 1", Severity: alert.Low})
	err := b.ev.SetRules([]*Rule{
		{ID: "ok", Condition: "x > 1", Severity: alert.Low},
		{ID: "ok", Condition: "x > 2", Severity: alert.Low},
		{ID: "bad", Condition: "x >", Severity: alert.Low},
	})
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), `rule "ok": id: duplicate rule id`)
	require.Contains(t, err.Error(), `rule "bad": condition: col 4: expected a number`)
	require.Len(t, b.ev.Rules(), 1, "rules unchanged on error")
}

func TestEvaluator_Deterministic(t *testing.T) {
	t.Parallel()
	run := func() []alert.Fingerprint {
		b := setup(t,
			&Rule{ID: "a", Condition: "x > 1 or y > 1", Severity: alert.Low},
			&Rule{ID: "b", Condition: "x > 1", Severity: alert.Low, NoData: NoDataKeep},
		)
		var xs []metric.Result
		for _, h := range []string{"h3", "h1", "h4", "h2", "h5"} {
			xs = append(xs, res(5, "host", h))
		}
		b.q.set("x", xs...)
		b.q.set("y", res(5, "host", "h9"), res(5, "host", "h0"))
		var fps []alert.Fingerprint
		for _, r := range b.ev.Eval(t0) {
			fps = append(fps, r.Fingerprint)
		}
		b.q.set("x", xs[2:]...) // h3, h1 lose data
		for _, r := range b.ev.Eval(t0.Add(time.Minute)) {
			fps = append(fps, r.Fingerprint)
		}
		return fps
	}
	want := run()
	require.Len(t, want, 24) // 7+5 firing, then the same with h1 and h3 as NoData
	for range 20 {
		require.Equal(t, want, run())
	}
}

func TestEvaluator_MalformedExpr(t *testing.T) {
	t.Parallel()
	bad := []Expr{
		&Binary{Op: And},
		&Binary{Op: BoolOp(9), Left: MustParse("x > 1"), Right: MustParse("y > 1")},
		&Binary{Op: Or, Left: (*Compare)(nil), Right: (*Absent)(nil)},
		(*Binary)(nil),
		&Compare{},
		&Compare{Query: Query{Metric: "x", Func: metric.Avg}, Op: OpGT},
		&Compare{Query: Query{Metric: "x"}, Op: OpGT, Value: math.NaN()},
		&Absent{Query: Query{Metric: "x", Func: metric.P99}},
	}
	q := newFake()
	q.set("x", res(1))
	ev := NewEvaluator(q, nil)
	for i, x := range bad {
		// SetRules rejects them with the field named.
		err := ev.SetRules([]*Rule{{ID: "r", Expr: x, Severity: alert.Low}})
		require.ErrorIs(t, err, ErrInvalid, "expr %d", i)
		require.Contains(t, err.Error(), "condition: ", "expr %d", i)
		err = ev.SetRules([]*Rule{{ID: "r", Condition: "x > 0", Recovery: x, Severity: alert.Low}})
		require.Contains(t, err.Error(), "recovery: ", "expr %d", i)
		// And the evaluator itself copes with them anyway.
		require.NotPanics(t, func() {
			ev.buf = ev.buf[:0]
			ev.eval(&compiled{known: map[unsafe.Pointer]*known{}}, x, t0)
			_ = x.String()
		}, "expr %d", i)
	}
}

func TestEvaluator_MaxSeriesPerRule(t *testing.T) {
	t.Parallel()
	q := newFake()
	ev := NewEvaluator(q, &EvaluatorOptions{MaxSeriesPerRule: 2})
	require.NoError(t, ev.SetRules([]*Rule{{ID: "r", Condition: "x > 0", Severity: alert.Low}}))
	q.set("x", res(1, "i", "1"), res(1, "i", "2"), res(1, "i", "3"))
	got := ev.Eval(t0)
	require.Len(t, got, 2)
	require.Equal(t, "1", got[0].Labels["i"])
	require.Equal(t, "2", got[1].Labels["i"])
}

func TestRule_Validate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule Rule
		want []string // substrings of the joined error; nil means valid
	}{
		// A minimal valid rule.
		{"valid", Rule{ID: "a", Condition: "x > 1", Severity: alert.Info}, nil},
		// Expr without Condition is fine.
		{"expr only", Rule{ID: "a", Expr: MustParse("x > 1"), Severity: alert.Info}, nil},
		// Every field wrong at once: each named.
		{"all wrong", Rule{Condition: "x >", For: -1, Hold: -1, NoData: "maybe", Labels: alert.Labels{"": "v"}}, []string{
			"id: must not be empty", "condition: col 4:", "for: must not be negative", "hold: must not be negative",
			"severity: must be one of", `no_data: unknown mode "maybe"`, "labels: label name must not be empty",
		}},
		// No condition at all.
		{"no condition", Rule{ID: "a", Severity: alert.Low}, []string{"condition: must not be empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.rule.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// cloningQuerier returns fresh label maps on every call, so the evaluator
// cannot rely on map identity.
type cloningQuerier struct{ *fakeQuerier }

func (c cloningQuerier) Query(name string, sel alert.Matchers, fn metric.Func, w time.Duration, now time.Time) []metric.Result {
	rs := c.fakeQuerier.Query(name, sel, fn, w, now)
	out := make([]metric.Result, len(rs))
	for i, r := range rs {
		r.Labels = r.Labels.Clone()
		out[i] = r
	}
	// Reverse the order too, so positional hints miss.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func TestEvaluator_FreshLabelMaps(t *testing.T) {
	t.Parallel()
	for _, cond := range []string{"x > 1", "x > 1 and y > 1", "x > 1 or absent(z)"} {
		t.Run(cond, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			ev := NewEvaluator(cloningQuerier{f}, nil)
			require.NoError(t, ev.SetRules([]*Rule{{ID: "r", Condition: cond, For: time.Minute, Severity: alert.Low}}))
			f.set("x", res(5, "h", "a"), res(0, "h", "b"), res(5, "h", "c"))
			f.set("y", res(5, "h", "c"), res(5, "h", "a"), res(5, "h", "b"))
			f.set("count(z)", res(1))
			f.set("z", res(1))
			byHost := func(rs []Result) map[string]State {
				m := map[string]State{}
				for _, r := range rs {
					m[r.Labels["h"]] = r.State
				}
				return m
			}
			require.Equal(t, map[string]State{"a": Pending, "c": Pending}, byHost(ev.Eval(t0)))
			// Series b starts breaching between cycles: a new series among known ones.
			f.set("x", res(5, "h", "a"), res(5, "h", "b"), res(5, "h", "c"))
			require.Equal(t, map[string]State{"a": Firing, "b": Pending, "c": Firing}, byHost(ev.Eval(t0.Add(time.Minute))))
			f.set("x", res(0, "h", "a"), res(5, "h", "b"), res(5, "h", "c"))
			require.Equal(t, map[string]State{"a": Inactive, "b": Firing, "c": Firing}, byHost(ev.Eval(t0.Add(2*time.Minute))))
			require.Equal(t, map[string]State{"b": Firing, "c": Firing}, byHost(ev.Eval(t0.Add(3*time.Minute))))
		})
	}
}

func TestEvaluator_SameMapsAcrossCycles(t *testing.T) {
	t.Parallel()
	// The fake hands out the same maps until set again: a series created at
	// one position must be found when a new series appears before it.
	b := setup(t, &Rule{ID: "r", Condition: "x > 1", Severity: alert.Low})
	a, c := res(5, "h", "a"), res(0, "h", "c")
	b.q.set("x", a, c)
	require.Len(t, b.ev.Eval(t0), 1)
	c.Value = 5
	b.q.set("x", res(5, "h", "new"), c, a)
	got := b.ev.Eval(t0.Add(time.Minute))
	require.Len(t, got, 3)
	require.Equal(t, "a", got[0].Labels["h"])
	require.Equal(t, t0, got[0].Since, "a is the same series")
}
