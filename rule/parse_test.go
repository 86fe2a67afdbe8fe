package rule

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

func mustMatcher(t *testing.T, name string, op alert.MatchOp, value string) alert.Matcher {
	t.Helper()
	m, err := alert.NewMatcher(name, op, value)
	require.NoError(t, err)
	return m
}

func TestParse_Valid(t *testing.T) {
	t.Parallel()
	cmp := func(q Query, op Op, v float64) *Compare { return &Compare{Query: q, Op: op, Value: v} }
	plain := func(name string) Query { return Query{Metric: name} }
	tests := []struct {
		name  string
		src   string
		want  func(t *testing.T) Expr
		canon string // String(); "" means the same as src
	}{
		// The seed's threshold condition.
		{"threshold", "error_rate > 0.05", func(*testing.T) Expr { return cmp(plain("error_rate"), OpGT, 0.05) }, ""},
		// Each of the six operators.
		{"op ge", "x >= 1", func(*testing.T) Expr { return cmp(plain("x"), OpGE, 1) }, ""},
		{"op lt", "x < 1", func(*testing.T) Expr { return cmp(plain("x"), OpLT, 1) }, ""},
		{"op le", "x <= 1", func(*testing.T) Expr { return cmp(plain("x"), OpLE, 1) }, ""},
		{"op eq", "x == 1", func(*testing.T) Expr { return cmp(plain("x"), OpEQ, 1) }, ""},
		{"op ne", "x != 1", func(*testing.T) Expr { return cmp(plain("x"), OpNE, 1) }, ""},
		// Spaces are optional and numbers take signs, fractions and exponents.
		{"compact negative exponent", "x>=-1.5e3", func(*testing.T) Expr { return cmp(plain("x"), OpGE, -1500) }, "x >= -1500"},
		// A leading dot and a plus sign are accepted and normalised.
		{"leading dot", "x < +.5", func(*testing.T) Expr { return cmp(plain("x"), OpLT, 0.5) }, "x < 0.5"},
		// Large numbers render with an exponent that parses back.
		{"big number", "x > 1e21", func(*testing.T) Expr { return cmp(plain("x"), OpGT, 1e21) }, "x > 1e+21"},
		// An aggregate over a window.
		{"avg window", "avg(response_time[5m]) > 500", func(*testing.T) Expr {
			return cmp(Query{Metric: "response_time", Func: metric.Avg, Window: 5 * time.Minute}, OpGT, 500)
		}, ""},
		// Every aggregate function, compound and millisecond durations.
		{"min", "min(x[30s]) < 1", func(*testing.T) Expr {
			return cmp(Query{Metric: "x", Func: metric.Min, Window: 30 * time.Second}, OpLT, 1)
		}, ""},
		{"max", "max(x[1h]) < 1", func(*testing.T) Expr { return cmp(Query{Metric: "x", Func: metric.Max, Window: time.Hour}, OpLT, 1) }, ""},
		{"sum", "sum(x[1d]) < 1", func(*testing.T) Expr {
			return cmp(Query{Metric: "x", Func: metric.Sum, Window: 24 * time.Hour}, OpLT, 1)
		}, ""},
		{"count", "count(x[500ms]) < 1", func(*testing.T) Expr {
			return cmp(Query{Metric: "x", Func: metric.Count, Window: 500 * time.Millisecond}, OpLT, 1)
		}, ""},
		{"rate compound", "rate(x[1h30m]) > 2", func(*testing.T) Expr {
			return cmp(Query{Metric: "x", Func: metric.Rate, Window: 90 * time.Minute}, OpGT, 2)
		}, ""},
		{"p50 normalised", "p50(x[90s]) > 2", func(*testing.T) Expr {
			return cmp(Query{Metric: "x", Func: metric.P50, Window: 90 * time.Second}, OpGT, 2)
		}, "p50(x[1m30s]) > 2"},
		{"p90", "p90(x[1m]) > 2", func(*testing.T) Expr { return cmp(Query{Metric: "x", Func: metric.P90, Window: time.Minute}, OpGT, 2) }, ""},
		{"p95 spaced", "p95 ( x [ 1m ] ) > 2", func(*testing.T) Expr { return cmp(Query{Metric: "x", Func: metric.P95, Window: time.Minute}, OpGT, 2) }, "p95(x[1m]) > 2"},
		// A selector inside an aggregate.
		{"p99 selector", `p99(response_time{tool="search"}[5m]) > 2000`, func(t *testing.T) Expr {
			return cmp(Query{Metric: "response_time", Matchers: alert.Matchers{mustMatcher(t, "tool", alert.MatchEqual, "search")},
				Func: metric.P99, Window: 5 * time.Minute}, OpGT, 2000)
		}, ""},
		// All four matcher operators, a trailing comma, escapes.
		{"matchers", `tool_errors{tool="search",env!="dev",host=~"web-.*",zone!~"eu\"x",} > 0`, func(t *testing.T) Expr {
			return cmp(Query{Metric: "tool_errors", Matchers: alert.Matchers{
				mustMatcher(t, "tool", alert.MatchEqual, "search"),
				mustMatcher(t, "env", alert.MatchNotEqual, "dev"),
				mustMatcher(t, "host", alert.MatchRegexp, "web-.*"),
				mustMatcher(t, "zone", alert.MatchNotRegexp, `eu"x`),
			}}, OpGT, 0)
		}, `tool_errors{tool="search", env!="dev", host=~"web-.*", zone!~"eu\"x"} > 0`},
		// An empty selector is the bare metric.
		{"empty selector", "x{} > 1", func(*testing.T) Expr { return cmp(plain("x"), OpGT, 1) }, "x > 1"},
		// Metric names may contain colons and dots; function names are metric names when not called.
		{"odd names", "ns:mcp.calls > 1 or count > 2", func(*testing.T) Expr {
			return &Binary{Op: Or, Left: cmp(plain("ns:mcp.calls"), OpGT, 1), Right: cmp(plain("count"), OpGT, 2)}
		}, ""},
		// absent with and without a window, with matchers.
		{"absent", "absent(heartbeat[2m])", func(*testing.T) Expr { return &Absent{Query: Query{Metric: "heartbeat", Window: 2 * time.Minute}} }, ""},
		{"absent no window", `absent(up{job="api"})`, func(t *testing.T) Expr {
			return &Absent{Query: Query{Metric: "up", Matchers: alert.Matchers{mustMatcher(t, "job", alert.MatchEqual, "api")}}}
		}, ""},
		// and binds tighter than or.
		{"precedence", "a > 1 or b > 2 and c > 3", func(*testing.T) Expr {
			return &Binary{Op: Or, Left: cmp(plain("a"), OpGT, 1),
				Right: &Binary{Op: And, Left: cmp(plain("b"), OpGT, 2), Right: cmp(plain("c"), OpGT, 3)}}
		}, ""},
		// Parentheses override precedence and survive String.
		{"parens", "(a > 1 or b > 2) and c > 3", func(*testing.T) Expr {
			return &Binary{Op: And, Left: &Binary{Op: Or, Left: cmp(plain("a"), OpGT, 1), Right: cmp(plain("b"), OpGT, 2)},
				Right: cmp(plain("c"), OpGT, 3)}
		}, ""},
		// Chains are left-associative; redundant parentheses vanish, needed ones stay.
		{"associativity", "((a > 1 and b > 2)) and (c > 3 and d > 4)", func(*testing.T) Expr {
			return &Binary{Op: And,
				Left:  &Binary{Op: And, Left: cmp(plain("a"), OpGT, 1), Right: cmp(plain("b"), OpGT, 2)},
				Right: &Binary{Op: And, Left: cmp(plain("c"), OpGT, 3), Right: cmp(plain("d"), OpGT, 4)}}
		}, "a > 1 and b > 2 and (c > 3 and d > 4)"},
		// Newlines and tabs are whitespace.
		{"multiline", "a > 1\n\tand absent(b)", func(*testing.T) Expr {
			return &Binary{Op: And, Left: cmp(plain("a"), OpGT, 1), Right: &Absent{Query: plain("b")}}
		}, "a > 1 and absent(b)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.src)
			require.NoError(t, err)
			require.Equal(t, tt.want(t), got)
			canon := tt.canon
			if canon == "" {
				canon = tt.src
			}
			require.Equal(t, canon, got.String())
			again, err := Parse(got.String())
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want string // the full error text, column included
	}{
		// Nothing to parse.
		{"empty", "", "col 1: empty condition"},
		// Blank text points at its end.
		{"blank", "   ", "col 4: empty condition"},
		// The example: a window left open.
		{"unclosed window", "avg(response_time[5m > 500", "col 22: expected ']' after window duration, found '>'"},
		// Missing threshold.
		{"no number", "error_rate > ", "col 14: expected a number after '>', found end of condition"},
		// A single '=' is a common slip.
		{"single equals", "error_rate = 5", "col 12: use '==' to compare for equality"},
		// No comparison at all.
		{"no comparison", "error_rate", "col 11: expected a comparison (> >= < <= == !=) after error_rate, found end of condition"},
		// A window needs a function.
		{"bare window", "error_rate[5m] > 1", "col 11: a window needs an aggregate function, e.g. avg(error_rate[5m])"},
		// Unknown function name.
		{"unknown function", "median(x[5m]) > 1", `col 1: unknown function "median" (want absent, avg, min, max, sum, count, rate, p50, p90, p95 or p99)`},
		// Aggregates require a window.
		{"aggregate without window", "avg(x) > 1", "col 6: expected '[' and a window after avg(x, e.g. [5m], found ')'"},
		// Zero window.
		{"zero window", "avg(x[0s]) > 1", "col 7: window must be positive"},
		// Unknown unit.
		{"bad unit", "avg(x[5y]) > 1", `col 8: unknown duration unit "y" (want ms, s, m, h or d)`},
		// Unit missing.
		{"no unit", "avg(x[5]) > 1", "col 8: expected a duration unit (ms, s, m, h or d)"},
		// Overflowing duration.
		{"huge window", "avg(x[999999999999999d]) > 1", "col 7: duration out of range"},
		// Aggregate parenthesis not closed.
		{"unclosed call", "avg(x[5m] > 1", "col 11: expected ')' to close avg( opened at col 4, found '>'"},
		// absent not closed.
		{"unclosed absent", "absent(x[2m]", "col 13: expected ')' to close absent(, found end of condition"},
		// Dangling and.
		{"dangling and", "x > 1 and", "col 10: expected a condition, found end of condition"},
		// Unknown connective.
		{"xor", "x > 1 xor y > 2", `col 7: unexpected "xor" after condition; expected 'and', 'or' or end`},
		// Unbalanced parentheses both ways.
		{"open paren", "(x > 1", "col 7: expected ')' to close '(', found end of condition"},
		{"close paren", "x > 1)", "col 6: unexpected ')' without matching '('"},
		// Keywords are not metric names.
		{"keyword", "and > 1", `col 1: expected a condition, found keyword "and"`},
		// Selector problems.
		{"unterminated value", `x{a="b} > 1`, "col 5: unterminated label value"},
		{"double equals matcher", `x{a=="b"} > 1`, "col 4: use '=' to match a label value"},
		{"bad label name", `x{1="a"} > 1`, "col 3: expected a label name or '}', found '1'"},
		{"unquoted value", `x{a=b} > 1`, `col 5: expected a double-quoted label value, found "b"`},
		{"missing comma", `x{a="b" c="d"} > 1`, `col 9: expected ',' or '}' in label selector, found "c"`},
		{"bad matcher op", `x{a<"b"} > 1`, `col 4: expected a matcher operator (= != =~ !~) after label "a", found '<'`},
		{"bad escape", `x{a="\q"} > 1`, "col 5: invalid escape in label value"},
		// Number problems.
		{"percent", "cpu_usage > 5%", "col 14: '%' is not supported; write the number plainly (5% is 0.05 or 5 depending on the metric)"},
		{"out of range", "x > 1e999", "col 5: number out of range"},
		{"bad exponent", "x > 1e", "col 7: expected digits in the number's exponent"},
		{"two dots", "x > 1.2.3", "col 8: unexpected '.' after number"},
		{"word threshold", "x > abc", `col 5: expected a number after '>', found "abc"`},
		// Non-ASCII input is named by byte.
		{"binary", "\xff", "col 1: expected a metric name, function or '(', found byte 0xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.src)
			require.Error(t, err)
			require.Equal(t, tt.want, err.Error())
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			require.GreaterOrEqual(t, se.Col, 1)
			require.LessOrEqual(t, se.Col, len(tt.src)+1)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func TestParse_BadRegexp(t *testing.T) {
	t.Parallel()
	_, err := Parse(`x{a=~"("} > 1`)
	var se *SyntaxError
	require.True(t, errors.As(err, &se))
	require.Equal(t, 6, se.Col)
	require.Contains(t, se.Msg, "bad regular expression")
}

func TestParse_DeepNesting(t *testing.T) {
	t.Parallel()
	src := ""
	for range 100 {
		src += "("
	}
	_, err := Parse(src + "x > 1")
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	require.Equal(t, maxDepth+1, se.Col)
	require.Contains(t, se.Msg, "nested deeper")
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	e, err := Threshold("error_rate", ">", 0.05)
	require.NoError(t, err)
	require.Equal(t, MustParse("error_rate > 0.05"), e)
	require.Equal(t, "error_rate > 0.05", e.String())

	tests := []struct {
		name   string
		metric string
		op     string
		value  float64
	}{
		// Operators must be one of the six.
		{"bad op", "x", "=>", 1},
		// Names follow the parser's rules.
		{"bad name", "9x", ">", 1},
		// Keywords are reserved.
		{"keyword", "or", ">", 1},
		// Empty name.
		{"empty", "", ">", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Threshold(tt.metric, tt.op, tt.value)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1d2h3m4s5ms", FormatDuration(26*time.Hour+3*time.Minute+4*time.Second+5*time.Millisecond))
	require.Equal(t, "0s", FormatDuration(0))
	require.Equal(t, "0s", FormatDuration(time.Microsecond))
}

// equalExpr compares two expressions structurally. It compares matchers by
// name, operator and value (not their compiled regular expressions), so the
// fuzz target never depends on regexp internals.
func equalExpr(a, b Expr) bool {
	switch a := a.(type) {
	case *Compare:
		b, ok := b.(*Compare)
		return ok && a.Op == b.Op && a.Value == b.Value && equalQuery(a.Query, b.Query)
	case *Absent:
		b, ok := b.(*Absent)
		return ok && equalQuery(a.Query, b.Query)
	case *Binary:
		b, ok := b.(*Binary)
		return ok && a.Op == b.Op && equalExpr(a.Left, b.Left) && equalExpr(a.Right, b.Right)
	}
	return false
}

func equalQuery(a, b Query) bool {
	if a.Metric != b.Metric || a.Func != b.Func || a.Window != b.Window || len(a.Matchers) != len(b.Matchers) {
		return false
	}
	for i := range a.Matchers {
		x, y := a.Matchers[i], b.Matchers[i]
		if x.Name != y.Name || x.Op != y.Op || x.Value != y.Value {
			return false
		}
	}
	return true
}
