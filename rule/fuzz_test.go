package rule

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"error_rate > 0.05",
		"x >= -1.5e3", "x < +.5", "x <= 1", "x == 0", "x != 1e21",
		"avg(response_time[5m]) > 500",
		"min(x[30s]) < 1", "max(x[1h]) < 1", "sum(x[1d]) < 1", "count(x[500ms]) < 1", "rate(x[1h30m]) > 2",
		"p50(x[1m]) > 1", "p90(x[1m]) > 1", "p95(x[1m]) > 1",
		`p99(response_time{tool="search"}[5m]) > 2000`,
		`tool_errors{tool="search",env!="dev",host=~"web-.*",zone!~"eu\"x",} > 0`,
		"absent(heartbeat[2m])", `absent(up{job="api"})`,
		"a > 1 or b > 2 and c > 3", "(a > 1 or b > 2) and (c > 3 or absent(d))",
		"x{} > 1", "ns:mcp.calls > 1",
		// A few broken ones, so mutations start near the error paths.
		"avg(response_time[5m > 500", "x > 5%", `x{a=~"("} > 1`, "((x > 1)", "x > 1e999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %v is not a *SyntaxError", src, err)
			}
			if se.Col < 1 || se.Col > len(src)+1 {
				t.Fatalf("Parse(%q): column %d out of range 1..%d", src, se.Col, len(src)+1)
			}
			return
		}
		text := e.String()
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", src, text, err)
		}
		if again.String() != text {
			t.Fatalf("round trip of %q: %q then %q", src, text, again.String())
		}
		if !equalExpr(e, again) {
			t.Fatalf("round trip of %q changed the tree: %#v vs %#v", src, e, again)
		}
	})
}
