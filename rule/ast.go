package rule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

// Expr is a parsed condition: a *Compare, an *Absent or a *Binary. Its String
// is the canonical source text, and Parse(e.String()) yields an Expr equal to
// e. The set of node types is closed (the interface has an unexported method).
type Expr interface {
	// String renders the expression as condition text that parses back to
	// the same expression.
	String() string
	isExpr()
}

// Op is a comparison operator.
type Op int

// Comparison operators. The zero Op is invalid.
const (
	OpGT Op = iota + 1 // >
	OpGE               // >=
	OpLT               // <
	OpLE               // <=
	OpEQ               // ==
	OpNE               // !=
)

var opNames = [...]string{"", ">", ">=", "<", "<=", "==", "!="}

// String returns the operator as written (">=").
func (o Op) String() string {
	if o >= OpGT && o <= OpNE {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// ParseOp reads a comparison operator (">", ">=", "<", "<=", "==", "!=").
// It reports false for anything else.
func ParseOp(s string) (Op, bool) {
	for i := OpGT; i <= OpNE; i++ {
		if opNames[i] == s {
			return i, true
		}
	}
	return 0, false
}

// Apply reports whether "v op threshold" holds. An invalid Op never holds,
// and neither does any comparison involving NaN except !=.
func (o Op) Apply(v, threshold float64) bool {
	switch o {
	case OpGT:
		return v > threshold
	case OpGE:
		return v >= threshold
	case OpLT:
		return v < threshold
	case OpLE:
		return v <= threshold
	case OpEQ:
		return v == threshold
	case OpNE:
		return v != threshold
	}
	return false
}

// BoolOp joins two conditions.
type BoolOp int

// Boolean operators. And binds tighter than Or.
const (
	And BoolOp = iota + 1
	Or
)

// String returns "and" or "or".
func (b BoolOp) String() string {
	switch b {
	case And:
		return "and"
	case Or:
		return "or"
	}
	return fmt.Sprintf("boolop(%d)", int(b))
}

// Query names the series a condition reads and how it reduces them: Func over
// Window. A plain metric reference (`error_rate`) is Func metric.Last with
// Window 0; an aggregate (`avg(response_time[5m])`) has a positive Window.
type Query struct {
	// Metric is the metric name.
	Metric string
	// Matchers select series by label; nil selects every series of Metric.
	Matchers alert.Matchers
	// Func reduces each series' samples (metric.Last for a plain reference).
	Func metric.Func
	// Window is how far back Func looks; 0 for a plain reference.
	Window time.Duration
}

// String renders the query: `m`, `m{a="b"}` or `avg(m{a="b"}[5m])`.
func (q Query) String() string {
	var b strings.Builder
	q.write(&b)
	return b.String()
}

func (q Query) write(b *strings.Builder) {
	if q.Window > 0 && q.Func != metric.Last {
		b.WriteString(q.Func.String())
		b.WriteByte('(')
		q.writeSelector(b)
		b.WriteByte('[')
		b.WriteString(FormatDuration(q.Window))
		b.WriteString("])")
		return
	}
	q.writeSelector(b)
}

func (q Query) writeSelector(b *strings.Builder) {
	b.WriteString(q.Metric)
	if len(q.Matchers) == 0 {
		return
	}
	b.WriteByte('{')
	for i, m := range q.Matchers {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.Name)
		b.WriteString(string(m.Op))
		b.WriteString(strconv.Quote(m.Value))
	}
	b.WriteByte('}')
}

// Compare is a threshold condition: each series of Query whose value
// satisfies Op against Value breaches.
type Compare struct {
	Query Query
	Op    Op
	Value float64
}

func (*Compare) isExpr() {}

// String renders `query op value`.
func (c *Compare) String() string {
	if c == nil {
		return "<nil>"
	}
	var b strings.Builder
	c.Query.write(&b)
	b.WriteByte(' ')
	b.WriteString(c.Op.String())
	b.WriteByte(' ')
	b.WriteString(formatNumber(c.Value))
	return b.String()
}

// Absent is true when no series of Query has data: `absent(m[2m])` when no
// series of m has a sample in the last 2 minutes, `absent(m)` when none has a
// current value. Query.Func is always metric.Last here; the evaluator picks
// the function it needs.
type Absent struct {
	Query Query
}

func (*Absent) isExpr() {}

// String renders `absent(m{...}[w])`.
func (a *Absent) String() string {
	if a == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString("absent(")
	a.Query.writeSelector(&b)
	if a.Query.Window > 0 {
		b.WriteByte('[')
		b.WriteString(FormatDuration(a.Query.Window))
		b.WriteByte(']')
	}
	b.WriteByte(')')
	return b.String()
}

// Binary joins two conditions with and/or. Chains are left-associative:
// `a or b or c` is Or(Or(a, b), c).
type Binary struct {
	Op          BoolOp
	Left, Right Expr
}

func (*Binary) isExpr() {}

// String renders `left op right`, with parentheses where precedence or
// associativity needs them.
func (x *Binary) String() string {
	if x == nil {
		return "<nil>"
	}
	var b strings.Builder
	writeChild(&b, x.Left, x.Op, false)
	b.WriteByte(' ')
	b.WriteString(x.Op.String())
	b.WriteByte(' ')
	writeChild(&b, x.Right, x.Op, true)
	return b.String()
}

func writeChild(b *strings.Builder, e Expr, parent BoolOp, right bool) {
	c, ok := e.(*Binary)
	if e == nil || ok && c == nil {
		b.WriteString("<nil>")
		return
	}
	// Or binds looser than And; a right child of the same operator needs
	// parentheses to keep the tree shape under left associativity.
	if ok && (c.Op == Or && parent == And || right && c.Op == parent) {
		b.WriteByte('(')
		b.WriteString(c.String())
		b.WriteByte(')')
		return
	}
	b.WriteString(e.String())
}

// formatNumber renders a threshold so that the parser reads back the same
// float64.
func formatNumber(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

const day = 24 * time.Hour

// FormatDuration renders d in the condition syntax, largest units first:
// 90*time.Minute is "1h30m", 1500*time.Millisecond is "1s500ms". Sub-millisecond
// remainders are dropped (the parser never produces them); 0 is "0s".
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b []byte
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / u.d; n > 0 {
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, u.name...)
			d -= n * u.d
		}
	}
	if len(b) == 0 {
		return "0s"
	}
	return string(b)
}

// Threshold is the structured form of a threshold condition, as in the
// original request's AlertCondition::threshold("error_rate", ">", 0.05):
// the metric's current value compared with value. It checks the metric name
// and operator the way Parse does and rejects a NaN or infinite value.
func Threshold(metricName, op string, value float64) (Expr, error) {
	if !validMetricName(metricName) {
		return nil, fmt.Errorf("%w: invalid metric name %q", ErrInvalid, metricName)
	}
	o, ok := ParseOp(op)
	if !ok {
		return nil, fmt.Errorf("%w: unknown operator %q (want > >= < <= == !=)", ErrInvalid, op)
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return nil, fmt.Errorf("%w: threshold must be a finite number", ErrInvalid)
	}
	return &Compare{Query: Query{Metric: metricName}, Op: o, Value: value}, nil
}

func validMetricName(s string) bool {
	if s == "" || isKeyword(s) || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

func isKeyword(s string) bool { return s == "and" || s == "or" }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':'
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.'
}

func isLabelStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isLabelChar(c byte) bool {
	return isLabelStart(c) || c >= '0' && c <= '9'
}
