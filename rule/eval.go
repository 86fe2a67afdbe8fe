package rule

import (
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

// Querier reads metrics for the evaluator. It returns one Result per series
// of name that matches sel and has data (at least one sample inside window,
// or a current value when window is 0), reduced by fn. A series without data
// is simply left out. The metric package's *Registry satisfies it.
// A Labels map, once returned, must never be modified: the evaluator
// recognises a series by the identity of its map when the Querier returns the
// same map again (a fresh map per call is fine, just slower).
// Implementations must not retain or modify sel, and must be safe to call
// from the goroutine that runs Eval.
type Querier interface {
	Query(name string, sel alert.Matchers, fn metric.Func, window time.Duration, now time.Time) []metric.Result
}

// State is what the evaluator reports for one series of one rule.
type State int

// Series states.
const (
	// Inactive: the series' condition cleared (or it had no data under
	// NoDataResolve, or its rule was removed or changed). It is reported
	// once, so the lifecycle resolves the alert (or drops a pending one), and
	// the series is then forgotten. Series that never breached are not
	// reported at all.
	Inactive State = iota
	// Pending: the condition holds but has not held for the rule's For yet.
	// Out: to Firing when For elapses, to Inactive when it clears first.
	Pending
	// Firing: the condition has held for For (or For is 0), or the series
	// has no data under NoDataAlert. It stays firing while the condition is
	// false but the rule's Recovery is not true, and during Hold.
	Firing
	// NoData: a pending or firing series has no data this cycle and its rule
	// keeps state (NoDataKeep). Result.Kept says which state it keeps; the
	// lifecycle must not resolve or fire the alert because of this result.
	// Since is when data went missing. Out: back to the kept state's normal
	// handling as soon as data returns (the For clock of a pending series
	// keeps running from when its condition first held).
	NoData
)

var stateNames = [...]string{"inactive", "pending", "firing", "nodata"}

// String returns "inactive", "pending", "firing" or "nodata".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Result is the evaluator's verdict on one series of one rule in one cycle.
// Labels, Threshold and Metadata are shared with the evaluator and later
// results: read them, never modify them.
type Result struct {
	Rule *Rule
	// Labels are the rule's labels merged over the series' labels, plus
	// "alertname" set to the rule's ID.
	Labels alert.Labels
	// Fingerprint is alert.NewFingerprint(Rule.ID, Labels).
	Fingerprint alert.Fingerprint
	// Value is the series' latest value (for NoData: the last one seen). For
	// and/or conditions it is the left operand's value (see the package doc).
	Value float64
	// Threshold is the rule's threshold when its condition is a single
	// comparison, nil otherwise.
	Threshold *float64
	State     State
	// Kept is the state a NoData series keeps (Pending or Firing); it equals
	// State otherwise.
	Kept State
	// Since is when the series entered State: when its condition first held
	// (Pending), when it started firing (Firing), when data went missing
	// (NoData), or now (Inactive).
	Since time.Time
	// ActiveAt is when the series' condition first held in this episode.
	ActiveAt time.Time
	// Metadata is what the metric's provider says about the series, if
	// anything.
	Metadata map[string]string
}

// EvaluatorOptions tunes an Evaluator. A nil *EvaluatorOptions means all
// defaults.
type EvaluatorOptions struct {
	// MaxSeriesPerRule caps how many series one rule tracks at a time, so a
	// condition over a metric with runaway label cardinality cannot exhaust
	// memory. Breaching series beyond the cap are ignored until others clear.
	// Default (0): 10,000.
	MaxSeriesPerRule int
}

// Evaluator evaluates rules against a Querier and keeps per-series state
// (pending since, firing since, clear since) between cycles. It is safe for
// concurrent use; Eval and SetRules serialise on a mutex.
type Evaluator struct {
	q         Querier
	maxSeries int
	seed      maphash.Seed

	mu      sync.Mutex
	rules   []*compiled
	retired []retiredSeries
	cycle   uint64
	buf     []sample // scratch for and/or evaluation, reset per rule
	// memo holds this cycle's query answers: rules that ask the same
	// question (many thresholds on one metric) share one Querier call.
	memo map[memoKey][]metric.Result
	// selKeys caches each query node's selector text (reset by SetRules).
	selKeys map[*Query]string
	lastN   int // results of the previous cycle, to size the next
}

// compiled is a rule with its parsed condition and its series.
type compiled struct {
	rule      *Rule
	expr      Expr
	cmp       *Compare // expr when it is a single comparison (fast path)
	recovery  Expr
	key       string // expr.String(): same id and key keep state
	threshold *float64
	noData    NoDataMode

	list  []*series // tracked series in creation order (deterministic output)
	index map[uint64]*series
	// known memoises, per Labels map the Querier returned (by identity),
	// its hash and its series, so a steady cycle neither hashes nor compares
	// labels when the Querier hands out the same maps (as a registry does).
	known map[unsafe.Pointer]*known
	gen   uint64 // bumped whenever a series is created
	// hints[n] is the memo of the n-th map seen in the previous cycle:
	// Queriers tend to answer in the same order, so most look-ups are one
	// pointer comparison instead of a map access.
	hints  []*known
	nHints int

	// Per-cycle recovery evaluation, done lazily.
	recCycle         uint64
	recStart, recEnd int
}

// series is the state of one labelled series of one rule.
type series struct {
	hash   uint64
	next   *series // index collision chain
	labels alert.Labels
	merged alert.Labels
	fp     alert.Fingerprint

	state    State // Inactive only between creation and first decision
	activeAt time.Time
	firingAt time.Time
	clearAt  time.Time // zero unless a firing series is clearing (Hold)
	noDataAt time.Time // zero unless the series has no data

	seen    uint64 // cycle in which the series last had data
	breach  bool
	value   float64
	meta    map[string]string
	dropped bool
}

type retiredSeries struct {
	rule *Rule
	st   series
}

// sample is one series' value in a vector.
type sample struct {
	labels alert.Labels
	k      *known // nil for absent()'s unlabelled sample
	value  float64
	breach bool
	meta   map[string]string
}

// NewEvaluator returns an evaluator with no rules reading from q.
func NewEvaluator(q Querier, opts *EvaluatorOptions) *Evaluator {
	if opts == nil {
		opts = &EvaluatorOptions{}
	}
	max := opts.MaxSeriesPerRule
	if max <= 0 {
		max = 10000
	}
	return &Evaluator{q: q, maxSeries: max, seed: maphash.MakeSeed()}
}

// SetRules replaces the rule set. Every rule is validated first; on any error
// nothing changes and the error (each rule's problems joined, prefixed by its
// id) is returned. Rules are evaluated in the given order. A rule whose id and
// condition (in canonical form) are unchanged keeps its series' state, with
// labels and fingerprints recomputed; the pending or firing series of removed
// or changed rules are reported Inactive once in the next Eval unless the new
// rule set reports the same fingerprint in that cycle. Rules must not be
// modified after SetRules.
func (e *Evaluator) SetRules(rules []*Rule) error {
	var errs []error
	next := make([]*compiled, 0, len(rules))
	ids := make(map[string]bool, len(rules))
	for i, r := range rules {
		if r == nil {
			errs = append(errs, fmt.Errorf("rule %d: %w: nil rule", i, ErrInvalid))
			continue
		}
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("rule %q: %w", r.ID, err))
			continue
		}
		if ids[r.ID] {
			errs = append(errs, fmt.Errorf("rule %q: %w", r.ID, &FieldError{Field: "id", Err: errors.New("duplicate rule id")}))
			continue
		}
		ids[r.ID] = true
		c, err := compile(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %q: %w", r.ID, err))
			continue
		}
		next = append(next, c)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	old := make(map[string]*compiled, len(e.rules))
	for _, c := range e.rules {
		old[c.rule.ID] = c
	}
	for _, c := range next {
		o := old[c.rule.ID]
		if o == nil || o.key != c.key {
			continue
		}
		delete(old, c.rule.ID)
		c.list, c.index, c.known, c.gen = o.list, o.index, o.known, o.gen
		for _, st := range c.list {
			prev := *st
			st.merged, st.fp = mergeLabels(c.rule, st.labels)
			if st.fp != prev.fp && st.state != Inactive {
				e.retired = append(e.retired, retiredSeries{rule: o.rule, st: prev})
			}
		}
	}
	for _, o := range old {
		for _, st := range o.list {
			if !st.dropped && st.state != Inactive {
				e.retired = append(e.retired, retiredSeries{rule: o.rule, st: *st})
			}
		}
	}
	e.rules = next
	e.selKeys = map[*Query]string{}
	return nil
}

func compile(r *Rule) (*compiled, error) {
	x, err := r.expr()
	if err != nil {
		return nil, err
	}
	c := &compiled{rule: r, expr: x, recovery: r.Recovery, key: x.String(), noData: r.NoData,
		index: map[uint64]*series{}, known: map[unsafe.Pointer]*known{}}
	if c.noData == "" {
		c.noData = NoDataKeep
	}
	if cmp, ok := x.(*Compare); ok {
		c.cmp = cmp
		v := cmp.Value
		c.threshold = &v
	}
	return c, nil
}

func mergeLabels(r *Rule, l alert.Labels) (alert.Labels, alert.Fingerprint) {
	m := make(alert.Labels, len(l)+len(r.Labels)+1)
	maps.Copy(m, l)
	maps.Copy(m, r.Labels)
	m["alertname"] = r.ID
	return m, alert.NewFingerprint(r.ID, m)
}

// Rules returns the current rules in evaluation order.
func (e *Evaluator) Rules() []*Rule {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Rule, len(e.rules))
	for i, c := range e.rules {
		out[i] = c.rule
	}
	return out
}

// Eval runs one evaluation cycle at now and returns one Result for every
// series that is pending, firing, without data (NoData), or that just became
// inactive. Results come in rule order, then in the order each rule first
// saw its series, then the retired series of removed or changed rules; for a
// deterministic Querier the output is deterministic. now must not go
// backwards between calls.
func (e *Evaluator) Eval(now time.Time) []Result {
	return e.EvalAppend(nil, now)
}

// EvalAppend is Eval appending to dst, so a caller that evaluates in a loop
// can reuse one slice: out = ev.EvalAppend(out[:0], now).
func (e *Evaluator) EvalAppend(dst []Result, now time.Time) []Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cycle++
	if e.memo == nil {
		e.memo = map[memoKey][]metric.Result{}
		e.selKeys = map[*Query]string{}
	}
	clear(e.memo)
	out := dst
	if dst == nil {
		out = make([]Result, 0, e.lastN+8)
	}
	first := len(out)
	for i, c := range e.rules {
		if (e.cycle+uint64(i))%knownTTL == 0 {
			c.sweepKnown(e.cycle)
		}
		e.buf = e.buf[:0]
		c.nHints = 0
		if c.cmp != nil {
			e.observeCompare(c, c.cmp, now)
		} else {
			start, end := e.eval(c, c.expr, now)
			for i := start; i < end; i++ {
				e.observe(c, e.buf[i])
			}
		}
		out = e.decide(c, now, out)
	}
	if len(e.retired) > 0 {
		seen := make(map[alert.Fingerprint]bool, len(out)-first)
		for i := first; i < len(out); i++ {
			seen[out[i].Fingerprint] = true
		}
		for _, r := range e.retired {
			if seen[r.st.fp] {
				continue
			}
			out = append(out, Result{Rule: r.rule, Labels: r.st.merged, Fingerprint: r.st.fp, Value: r.st.value,
				State: Inactive, Kept: Inactive, Since: now, ActiveAt: r.st.activeAt, Metadata: r.st.meta})
		}
		e.retired = nil
	}
	e.lastN = len(out) - first
	return out
}

// known is what the evaluator remembers about one Labels map.
type known struct {
	labels alert.Labels // keeps the map alive, so its address stays unique
	hash   uint64
	eq     *known  // another map last found to hold equal labels
	st     *series // the series with these labels when last resolved, or nil
	gen    uint64  // compiled.gen when st was resolved
	seen   uint64  // last cycle the map was returned
}

// know returns the memo for a Labels map of rule c, creating it once.
func (e *Evaluator) know(c *compiled, l alert.Labels) *known {
	p := mapPointer(l)
	n := c.nHints
	c.nHints++
	if n < len(c.hints) {
		if k := c.hints[n]; k != nil && mapPointer(k.labels) == p {
			k.seen = e.cycle
			return k
		}
	}
	k := c.known[p]
	if k == nil {
		k = &known{labels: l, hash: e.hashLabels(l)}
		c.known[p] = k
	}
	k.seen = e.cycle
	if n < len(c.hints) {
		c.hints[n] = k
	} else if n == len(c.hints) {
		c.hints = append(c.hints, k)
	}
	return k
}

// knownTTL is how many cycles a memo survives without its map being
// returned; rule i sweeps its memos when (cycle+i) % knownTTL == 0, so
// sweeps are spread over cycles.
const knownTTL = 16

func (c *compiled) sweepKnown(cycle uint64) {
	for p, k := range c.known {
		if cycle-k.seen >= knownTTL {
			delete(c.known, p)
		}
	}
	for i, k := range c.hints {
		if k != nil && cycle-k.seen >= knownTTL {
			c.hints[i] = nil
		}
	}
}

// observeCompare is the fast path for a rule whose condition is one
// comparison: results go straight to the series without building a vector.
func (e *Evaluator) observeCompare(c *compiled, cmp *Compare, now time.Time) {
	q := &cmp.Query
	for _, r := range e.query(q, q.Func, now) {
		breach := cmp.Op.Apply(r.Value, cmp.Value)
		if !breach && len(c.list) == 0 {
			continue // nothing tracked, nothing to start
		}
		e.observe(c, sample{labels: r.Labels, k: e.know(c, r.Labels), value: r.Value, breach: breach, meta: r.Metadata})
	}
}

// observe records one sample of the rule's condition for its series,
// creating the series when it breaches for the first time.
func (e *Evaluator) observe(c *compiled, s sample) {
	k := s.k
	if k == nil {
		k = e.know(c, s.labels)
	}
	st := k.st
	if st != nil && st.dropped {
		st = nil
	}
	if st == nil && k.gen != c.gen {
		// Series were created since this memo was resolved: look again.
		st = c.lookup(k.hash, s.labels)
		k.st, k.gen = st, c.gen
	}
	if st == nil {
		if !s.breach || len(c.list) >= e.maxSeries {
			return
		}
		st = &series{hash: k.hash, labels: s.labels.Clone(), state: Inactive}
		st.merged, st.fp = mergeLabels(c.rule, st.labels)
		st.next = c.index[k.hash]
		c.index[k.hash] = st
		c.list = append(c.list, st)
		c.gen++
		k.st, k.gen = st, c.gen
	}
	if st.seen == e.cycle {
		return // a duplicate series in one answer: the first one counts
	}
	st.seen = e.cycle
	st.breach = s.breach
	st.value = s.value
	st.meta = s.meta
}

func (c *compiled) lookup(h uint64, l alert.Labels) *series {
	for st := c.index[h]; st != nil; st = st.next {
		if maps.Equal(st.labels, l) {
			return st
		}
	}
	return nil
}

func (c *compiled) remove(st *series) {
	st.dropped = true
	p := c.index[st.hash]
	if p == st {
		if st.next == nil {
			delete(c.index, st.hash)
		} else {
			c.index[st.hash] = st.next
		}
		return
	}
	for ; p != nil; p = p.next {
		if p.next == st {
			p.next = st.next
			return
		}
	}
}

// decide moves every tracked series of c through its state machine and
// appends the results.
func (e *Evaluator) decide(c *compiled, now time.Time, out []Result) []Result {
	r := c.rule
	dropped := 0
	for _, st := range c.list {
		state := st.state
		since := now
		switch {
		case st.seen == e.cycle && st.breach:
			st.clearAt, st.noDataAt = time.Time{}, time.Time{}
			switch st.state {
			case Inactive:
				st.activeAt = now
				if r.For <= 0 {
					st.state, st.firingAt = Firing, now
				} else {
					st.state = Pending
				}
			case Pending:
				if now.Sub(st.activeAt) >= r.For {
					st.state, st.firingAt = Firing, now
				}
			}
			state = st.state
		case st.seen == e.cycle: // condition false
			st.noDataAt = time.Time{}
			if st.state != Firing {
				state = Inactive
				break
			}
			if c.recovery != nil && !e.recovered(c, st, now) {
				st.clearAt = time.Time{}
				break
			}
			if st.clearAt.IsZero() {
				st.clearAt = now
			}
			if now.Sub(st.clearAt) >= r.Hold {
				state = Inactive
			}
		default: // no data
			if st.noDataAt.IsZero() {
				st.noDataAt = now
			}
			switch c.noData {
			case NoDataResolve:
				state = Inactive
			case NoDataAlert:
				if st.state != Firing {
					st.state, st.firingAt = Firing, now
				}
				state = Firing
			default:
				state = NoData
				since = st.noDataAt
			}
		}
		switch state {
		case Pending:
			since = st.activeAt
		case Firing:
			since = st.firingAt
		}
		kept := state
		if state == NoData {
			kept = st.state
		}
		out = append(out, Result{Rule: r, Labels: st.merged, Fingerprint: st.fp, Value: st.value, Threshold: c.threshold,
			State: state, Kept: kept, Since: since, ActiveAt: st.activeAt, Metadata: st.meta})
		if state == Inactive {
			c.remove(st)
			dropped++
		}
	}
	if dropped > 0 {
		kept := c.list[:0]
		for _, st := range c.list {
			if !st.dropped {
				kept = append(kept, st)
			}
		}
		clear(c.list[len(kept):])
		c.list = kept
	}
	return out
}

// recovered reports whether the rule's recovery condition holds for st,
// evaluating it at most once per cycle.
func (e *Evaluator) recovered(c *compiled, st *series, now time.Time) bool {
	if c.recCycle != e.cycle {
		c.recCycle = e.cycle
		c.recStart, c.recEnd = e.eval(c, c.recovery, now)
	}
	if c.recEnd-c.recStart == 1 && len(e.buf[c.recStart].labels) == 0 {
		return e.buf[c.recStart].breach
	}
	for i := c.recStart; i < c.recEnd; i++ {
		r := &e.buf[i]
		if len(r.labels) != len(st.labels) || r.k == nil {
			continue
		}
		if r.k.st == st || r.k.hash == st.hash && maps.Equal(r.labels, st.labels) {
			return r.breach
		}
	}
	return false
}

// sameLabels reports whether e.buf[i] and e.buf[j] have equal labels,
// hashing them only when cheaper checks cannot tell.
func (e *Evaluator) sameLabels(i, j int) bool {
	a, b := &e.buf[i], &e.buf[j]
	if len(a.labels) != len(b.labels) {
		return false
	}
	if len(a.labels) == 0 || a.k == b.k || a.k.eq == b.k || b.k.eq == a.k {
		return true
	}
	if a.k.hash != b.k.hash || !maps.Equal(a.labels, b.labels) {
		return false
	}
	a.k.eq = b.k
	return true
}

// mapPointer returns the identity of a label map (nil for a nil map).
func mapPointer(l alert.Labels) unsafe.Pointer {
	return reflect.ValueOf(l).UnsafePointer()
}

// hashLabels hashes a label set independently of map iteration order: the sum
// of a mixed hash per pair. Equal sets hash equally; lookups still compare the
// labels, so a collision costs time, never correctness.
func (e *Evaluator) hashLabels(l alert.Labels) uint64 {
	return hashPairs(e.seed, l)
}

func hashPairs(seed maphash.Seed, l alert.Labels) uint64 {
	var sum uint64
	for k, v := range l {
		h := maphash.String(seed, k)*0x9e3779b97f4a7c15 + maphash.String(seed, v)
		// splitmix64 finaliser, so sums of related pairs do not cancel.
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
		sum += h
	}
	return sum
}

// eval evaluates x (a part of rule c) into e.buf and returns the bounds of its vector. Indices,
// not slices, because appends may move the buffer.
func (e *Evaluator) eval(c *compiled, x Expr, now time.Time) (int, int) {
	switch x := x.(type) {
	case *Compare:
		start := len(e.buf)
		if x == nil {
			return start, start
		}
		q := &x.Query
		for _, r := range e.query(q, q.Func, now) {
			e.buf = append(e.buf, sample{labels: r.Labels, k: e.know(c, r.Labels), value: r.Value,
				breach: x.Op.Apply(r.Value, x.Value), meta: r.Metadata})
		}
		return start, len(e.buf)
	case *Absent:
		start := len(e.buf)
		if x == nil {
			return start, start
		}
		fn := metric.Last
		if x.Query.Window > 0 {
			fn = metric.Count
		}
		present := false
		for _, r := range e.query(&x.Query, fn, now) {
			if fn == metric.Last || r.Value > 0 {
				present = true
				break
			}
		}
		v := 1.0
		if present {
			v = 0
		}
		e.buf = append(e.buf, sample{value: v, breach: !present})
		return start, len(e.buf)
	case *Binary:
		if x == nil {
			return len(e.buf), len(e.buf)
		}
		ls, le := e.eval(c, x.Left, now)
		rs, re := e.eval(c, x.Right, now)
		start := len(e.buf)
		switch x.Op {
		case And:
			e.and(ls, le, rs, re)
		case Or:
			e.or(ls, le, rs, re)
		}
		return start, len(e.buf)
	}
	return len(e.buf), len(e.buf)
}

// and appends the series of the left vector that pair with a series of the
// right one (see the package doc for the matching rules).
func (e *Evaluator) and(ls, le, rs, re int) {
	switch {
	case re-rs == 1 && len(e.buf[rs].labels) == 0:
		r := e.buf[rs]
		for i := ls; i < le; i++ {
			s := e.buf[i]
			s.breach = s.breach && r.breach
			e.buf = append(e.buf, s)
		}
	case le-ls == 1 && len(e.buf[ls].labels) == 0:
		l := e.buf[ls]
		for j := rs; j < re; j++ {
			s := e.buf[j]
			s.breach = s.breach && l.breach
			s.value, s.meta = l.value, l.meta
			e.buf = append(e.buf, s)
		}
	default:
		for i := ls; i < le; i++ {
			for j := rs; j < re; j++ {
				if e.sameLabels(i, j) {
					s := e.buf[i]
					s.breach = s.breach && e.buf[j].breach
					e.buf = append(e.buf, s)
					break
				}
			}
		}
	}
}

// or appends the union of both vectors; a series in both breaches when
// either side does and takes the value of the first side that breaches.
func (e *Evaluator) or(ls, le, rs, re int) {
	start := len(e.buf)
	for i := ls; i < le; i++ {
		e.buf = append(e.buf, e.buf[i])
	}
	end := len(e.buf)
	for j := rs; j < re; j++ {
		found := false
		for i := start; i < end; i++ {
			if e.sameLabels(i, j) {
				s, r := &e.buf[i], &e.buf[j]
				if !s.breach && r.breach {
					s.value, s.breach, s.meta = r.value, true, r.meta
				}
				found = true
				break
			}
		}
		if !found {
			e.buf = append(e.buf, e.buf[j])
		}
	}
}
