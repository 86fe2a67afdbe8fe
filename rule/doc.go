// Package rule parses alert conditions and evaluates rules over metrics.
//
// # Conditions
//
// A condition is a comparison, an absence test, or and/or of those:
//
//	error_rate > 0.05
//	avg(response_time[5m]) > 500
//	p99(response_time{tool="search"}[5m]) > 2000
//	tool_errors{tool=~"search|fetch", env!="dev"} >= 3
//	absent(heartbeat[2m])
//	error_rate > 0.05 and (request_count > 100 or absent(heartbeat[1m]))
//
// Comparisons are > >= < <= == !=. Aggregates are avg, min, max, sum, count,
// rate, p50, p90, p95 and p99 over a window; a plain metric reads its latest
// value. Label matchers are = != =~ !~ (regular expressions anchored at both
// ends). and binds tighter than or; parentheses group. See [Parse] for the
// grammar. [Threshold] builds the structured form (metric, operator, value).
// Syntax errors are [*SyntaxError] values that read "col N: message".
//
// Every [Expr] renders back to canonical text with String, and Parse of that
// text yields an equal Expr.
//
// # Vector semantics
//
// A condition is evaluated per series. Each leaf yields a vector: one entry
// per series (label set) with data, carrying its value and whether it breaches.
//
//   - A comparison queries its metric through the [Querier] (metric.Last with
//     window 0 for a plain reference, the aggregate over its window
//     otherwise). Every returned series has data; it breaches when its value
//     satisfies the comparison. A series the Querier leaves out has no data.
//   - absent(m[w]) always yields exactly one unlabelled entry: value 1 and
//     breaching when no series of m (after matchers) has a sample in the
//     window (metric.Count > 0), value 0 and not breaching otherwise.
//     Without a window it tests for a current value (metric.Last).
//   - a and b pairs entries. If one side is a single unlabelled entry (such as
//     absent(...) or an unlabelled metric), it pairs with every entry of the
//     other side. Otherwise an entry of a pairs with the entry of b with
//     identical labels. A pair breaches when both members breach; it carries
//     the labelled member's labels and a's value and metadata. Entries without
//     a partner drop out: for that series the condition has no data.
//   - a or b is the union of both sides by label set. A series on both sides
//     breaches when either breaches; its value is a's, or b's when only b
//     breaches.
//
// # Evaluation
//
// An [Evaluator] runs the rules at the times it is given and keeps state per
// rule and series. A series whose condition breaches for the first time
// becomes Pending (or Firing at once when For is 0) and Firing once it has
// breached for For. A Pending series whose condition is false becomes Inactive
// at once. A Firing series whose condition is false resolves when it is clear:
// when the rule has a Recovery condition, only once Recovery is true for the
// series (matched like the right side of and); then, when the rule has a Hold,
// only after it has stayed clear for Hold (any breach in between restarts the
// hold). Resolution is reported as one Inactive result, after which the series
// is forgotten.
//
// A tracked series without data follows the rule's NoData mode: keep (the
// default) reports State NoData with Kept set to the state it keeps, and the
// lifecycle must leave the alert alone; resolve reports Inactive; alert
// reports Firing. Series that never breached are never reported, so a rule
// over a metric that has never had data reports nothing: use absent() to alert
// on missing data.
//
// # Performance
//
// Per series the evaluator computes the merged labels and the fingerprint
// once, when the series first breaches. It remembers every Labels map the
// Querier returns (by identity, per rule) with its hash and series, and
// expects answers in a similar order each cycle, so a steady cycle neither
// hashes nor compares labels when the Querier hands out the same maps, as the
// metric registry does; a Querier that builds fresh maps still works, just
// slower. Rules that are a single comparison skip the vector stage. A steady
// cycle allocates only the result slice, and nothing with [Evaluator.EvalAppend].
// Matching in and/or is pairwise (quadratic in the series of one rule), which
// suits the tens to hundreds of series a rule usually sees.
package rule
