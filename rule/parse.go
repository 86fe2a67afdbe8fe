package rule

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

// ErrInvalid is wrapped by every error that rejects a condition or a rule:
// *SyntaxError, the errors of Threshold and those of Rule.Validate.
var ErrInvalid = errors.New("invalid rule")

// SyntaxError is a condition that does not parse. Col is the 1-based byte
// column where the problem was found (len(source)+1 for "unexpected end").
type SyntaxError struct {
	Col int
	Msg string
}

// Error reads "col N: msg".
func (e *SyntaxError) Error() string { return "col " + strconv.Itoa(e.Col) + ": " + e.Msg }

// Unwrap returns ErrInvalid, so errors.Is(err, ErrInvalid) holds.
func (e *SyntaxError) Unwrap() error { return ErrInvalid }

// maxDepth bounds parenthesis nesting so hostile input cannot exhaust the
// stack.
const maxDepth = 64

// Parse reads a condition:
//
//	cond    = and { "or" and }
//	and     = primary { "and" primary }
//	primary = "(" cond ")" | "absent" "(" selector [ "[" duration "]" ] ")" | query cmp number
//	query   = selector | func "(" selector "[" duration "]" ")"
//	func    = avg | min | max | sum | count | rate | p50 | p90 | p95 | p99
//	selector= metric [ "{" [ label matchop string { "," label matchop string } [","] ] "}" ]
//	cmp     = ">" | ">=" | "<" | "<=" | "==" | "!="
//	matchop = "=" | "!=" | "=~" | "!~"
//
// Metric names are [A-Za-z_:][A-Za-z0-9_:.]* except "and" and "or"; label
// names are [A-Za-z_][A-Za-z0-9_]*; label values are double-quoted Go
// strings. Numbers are decimal with an optional sign, fraction and exponent
// (-1.5e3). Durations are one or more integer-unit pairs with units ms, s, m,
// h, d (5m, 1h30m, 500ms) and must be positive. Errors are *SyntaxError.
func Parse(src string) (Expr, error) {
	p := &parser{src: src}
	p.skipSpace()
	if p.pos == len(src) {
		return nil, p.errAt(p.pos, "empty condition")
	}
	e, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(src) {
		if src[p.pos] == ')' {
			return nil, p.errAt(p.pos, "unexpected ')' without matching '('")
		}
		return nil, p.errAt(p.pos, fmt.Sprintf("unexpected %s after condition; expected 'and', 'or' or end", p.describe()))
	}
	return e, nil
}

// MustParse is Parse for condition literals in code; it panics on error.
// Use Parse for any text that comes from configuration or users.
func MustParse(src string) Expr {
	e, err := Parse(src)
	if err != nil {
		panic(fmt.Sprintf("rule.MustParse(%q): %v", src, err))
	}
	return e
}

type parser struct {
	src string
	pos int
}

func (p *parser) errAt(pos int, msg string) *SyntaxError {
	return &SyntaxError{Col: pos + 1, Msg: msg}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// describe names what is at the current position, for error messages.
func (p *parser) describe() string {
	if p.pos >= len(p.src) {
		return "end of condition"
	}
	c := p.src[p.pos]
	if isIdentStart(c) {
		end := p.pos
		for end < len(p.src) && isIdentChar(p.src[end]) {
			end++
		}
		return strconv.Quote(p.src[p.pos:end])
	}
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("byte 0x%02x", c)
	}
	return "'" + string(c) + "'"
}

// keyword reports whether the word kw starts at the current position and is
// not the prefix of a longer identifier; it consumes it when so.
func (p *parser) keyword(kw string) bool {
	if !strings.HasPrefix(p.src[p.pos:], kw) {
		return false
	}
	end := p.pos + len(kw)
	if end < len(p.src) && isIdentChar(p.src[end]) {
		return false
	}
	p.pos = end
	return true
}

func (p *parser) peek(c byte) bool {
	p.skipSpace()
	return p.pos < len(p.src) && p.src[p.pos] == c
}

func (p *parser) expect(c byte, what string) error {
	if !p.peek(c) {
		return p.errAt(p.pos, fmt.Sprintf("expected '%c' %s, found %s", c, what, p.describe()))
	}
	p.pos++
	return nil
}

func (p *parser) parseOr(depth int) (Expr, error) {
	left, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if !p.keyword("or") {
			return left, nil
		}
		right, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: Or, Left: left, Right: right}
	}
}

func (p *parser) parseAnd(depth int) (Expr, error) {
	left, err := p.parsePrimary(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if !p.keyword("and") {
			return left, nil
		}
		right, err := p.parsePrimary(depth)
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: And, Left: left, Right: right}
	}
}

func (p *parser) parsePrimary(depth int) (Expr, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.errAt(p.pos, "expected a condition, found end of condition")
	}
	if p.src[p.pos] == '(' {
		if depth >= maxDepth {
			return nil, p.errAt(p.pos, fmt.Sprintf("parentheses nested deeper than %d", maxDepth))
		}
		p.pos++
		e, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect(')', "to close '('"); err != nil {
			return nil, err
		}
		return e, nil
	}
	start := p.pos
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	callAt := p.pos
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		p.pos++
		if name == "absent" {
			return p.parseAbsent()
		}
		fn, ok := metric.ParseFunc(name)
		if !ok || fn == metric.Last {
			return nil, p.errAt(start, fmt.Sprintf("unknown function %q (want absent, avg, min, max, sum, count, rate, p50, p90, p95 or p99)", name))
		}
		q, err := p.parseAggregate(fn, callAt)
		if err != nil {
			return nil, err
		}
		return p.parseCompare(q)
	}
	if isKeyword(name) {
		return nil, p.errAt(start, fmt.Sprintf("expected a condition, found keyword %q", name))
	}
	q := Query{Metric: name}
	if q.Matchers, err = p.parseMatchers(); err != nil {
		return nil, err
	}
	if p.peek('[') {
		return nil, p.errAt(p.pos, "a window needs an aggregate function, e.g. avg("+name+"[5m])")
	}
	return p.parseCompare(q)
}

// ident reads a metric name at the current position.
func (p *parser) ident() (string, error) {
	start := p.pos
	if p.pos >= len(p.src) || !isIdentStart(p.src[p.pos]) {
		return "", p.errAt(p.pos, fmt.Sprintf("expected a metric name, function or '(', found %s", p.describe()))
	}
	for p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos], nil
}

// parseSelector reads `metric{...}` after an opening parenthesis.
func (p *parser) parseSelector() (Query, error) {
	p.skipSpace()
	start := p.pos
	name, err := p.ident()
	if err != nil {
		return Query{}, err
	}
	if isKeyword(name) {
		return Query{}, p.errAt(start, fmt.Sprintf("expected a metric name, found keyword %q", name))
	}
	q := Query{Metric: name}
	q.Matchers, err = p.parseMatchers()
	return q, err
}

func (p *parser) parseAbsent() (Expr, error) {
	q, err := p.parseSelector()
	if err != nil {
		return nil, err
	}
	if p.peek('[') {
		p.pos++
		if q.Window, err = p.parseDuration(); err != nil {
			return nil, err
		}
		if err := p.expect(']', "after window duration"); err != nil {
			return nil, err
		}
	}
	if err := p.expect(')', "to close absent("); err != nil {
		return nil, err
	}
	return &Absent{Query: q}, nil
}

func (p *parser) parseAggregate(fn metric.Func, callAt int) (Query, error) {
	q, err := p.parseSelector()
	if err != nil {
		return Query{}, err
	}
	q.Func = fn
	if !p.peek('[') {
		return Query{}, p.errAt(p.pos, fmt.Sprintf("expected '[' and a window after %s(%s, e.g. [5m], found %s", fn, q.Metric, p.describe()))
	}
	p.pos++
	if q.Window, err = p.parseDuration(); err != nil {
		return Query{}, err
	}
	if err := p.expect(']', "after window duration"); err != nil {
		return Query{}, err
	}
	if err := p.expect(')', fmt.Sprintf("to close %s( opened at col %d", fn, callAt+1)); err != nil {
		return Query{}, err
	}
	return q, nil
}

func (p *parser) parseCompare(q Query) (Expr, error) {
	p.skipSpace()
	opAt := p.pos
	op, ok := p.cmpOp()
	if !ok {
		if p.pos < len(p.src) && p.src[p.pos] == '=' {
			return nil, p.errAt(opAt, "use '==' to compare for equality")
		}
		return nil, p.errAt(opAt, fmt.Sprintf("expected a comparison (> >= < <= == !=) after %s, found %s", q.String(), p.describe()))
	}
	p.skipSpace()
	v, err := p.parseNumber(op)
	if err != nil {
		return nil, err
	}
	return &Compare{Query: q, Op: op, Value: v}, nil
}

func (p *parser) cmpOp() (Op, bool) {
	rest := p.src[p.pos:]
	for _, s := range []string{">=", "<=", "==", "!=", ">", "<"} {
		if strings.HasPrefix(rest, s) {
			op, _ := ParseOp(s)
			p.pos += len(s)
			return op, true
		}
	}
	return 0, false
}

func (p *parser) parseNumber(op Op) (float64, error) {
	start := p.pos
	i := p.pos
	if i < len(p.src) && (p.src[i] == '-' || p.src[i] == '+') {
		i++
	}
	digits := 0
	for i < len(p.src) && isDigit(p.src[i]) {
		i++
		digits++
	}
	if i < len(p.src) && p.src[i] == '.' {
		i++
		for i < len(p.src) && isDigit(p.src[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, p.errAt(start, fmt.Sprintf("expected a number after '%s', found %s", op, p.describe()))
	}
	if i < len(p.src) && (p.src[i] == 'e' || p.src[i] == 'E') {
		j := i + 1
		if j < len(p.src) && (p.src[j] == '-' || p.src[j] == '+') {
			j++
		}
		if j >= len(p.src) || !isDigit(p.src[j]) {
			return 0, p.errAt(j, "expected digits in the number's exponent")
		}
		for j < len(p.src) && isDigit(p.src[j]) {
			j++
		}
		i = j
	}
	if i < len(p.src) && (isIdentChar(p.src[i]) || p.src[i] == '%') {
		if p.src[i] == '%' {
			return 0, p.errAt(i, "'%' is not supported; write the number plainly (5% is 0.05 or 5 depending on the metric)")
		}
		return 0, p.errAt(i, fmt.Sprintf("unexpected %q after number", p.src[i]))
	}
	v, err := strconv.ParseFloat(p.src[start:i], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, p.errAt(start, "number out of range")
	}
	p.pos = i
	return v, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseDuration reads a duration such as 5m or 1h30m at the current position.
func (p *parser) parseDuration() (time.Duration, error) {
	p.skipSpace()
	start := p.pos
	var total time.Duration
	for {
		numAt := p.pos
		var n int64
		digits := 0
		for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
			if n > (math.MaxInt64-9)/10 {
				return 0, p.errAt(numAt, "duration out of range")
			}
			n = n*10 + int64(p.src[p.pos]-'0')
			p.pos++
			digits++
		}
		if digits == 0 {
			if p.pos == start {
				return 0, p.errAt(p.pos, fmt.Sprintf("expected a window duration such as 5m, found %s", p.describe()))
			}
			break
		}
		unitAt := p.pos
		for p.pos < len(p.src) && (p.src[p.pos] >= 'a' && p.src[p.pos] <= 'z' || p.src[p.pos] >= 'A' && p.src[p.pos] <= 'Z') {
			p.pos++
		}
		var unit time.Duration
		switch p.src[unitAt:p.pos] {
		case "ms":
			unit = time.Millisecond
		case "s":
			unit = time.Second
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = day
		case "":
			return 0, p.errAt(unitAt, "expected a duration unit (ms, s, m, h or d)")
		default:
			return 0, p.errAt(unitAt, fmt.Sprintf("unknown duration unit %q (want ms, s, m, h or d)", p.src[unitAt:p.pos]))
		}
		if n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, p.errAt(numAt, "duration out of range")
		}
		total += time.Duration(n) * unit
	}
	if total <= 0 {
		return 0, p.errAt(start, "window must be positive")
	}
	return total, nil
}

// parseMatchers reads an optional {...} label selector.
func (p *parser) parseMatchers() (alert.Matchers, error) {
	if !p.peek('{') {
		return nil, nil
	}
	p.pos++
	var ms alert.Matchers
	for {
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			p.pos++
			return ms, nil
		}
		nameAt := p.pos
		for p.pos < len(p.src) && (p.pos == nameAt && isLabelStart(p.src[p.pos]) || p.pos > nameAt && isLabelChar(p.src[p.pos])) {
			p.pos++
		}
		if p.pos == nameAt {
			return nil, p.errAt(p.pos, fmt.Sprintf("expected a label name or '}', found %s", p.describe()))
		}
		name := p.src[nameAt:p.pos]
		p.skipSpace()
		opAt := p.pos
		var op alert.MatchOp
		rest := p.src[p.pos:]
		switch {
		case strings.HasPrefix(rest, "=~"):
			op = alert.MatchRegexp
		case strings.HasPrefix(rest, "!~"):
			op = alert.MatchNotRegexp
		case strings.HasPrefix(rest, "!="):
			op = alert.MatchNotEqual
		case strings.HasPrefix(rest, "=="):
			return nil, p.errAt(opAt, "use '=' to match a label value")
		case strings.HasPrefix(rest, "="):
			op = alert.MatchEqual
		default:
			return nil, p.errAt(opAt, fmt.Sprintf("expected a matcher operator (= != =~ !~) after label %q, found %s", name, p.describe()))
		}
		p.pos += len(op)
		p.skipSpace()
		valAt := p.pos
		val, err := p.quoted()
		if err != nil {
			return nil, err
		}
		m, err := alert.NewMatcher(name, op, val)
		if err != nil {
			return nil, p.errAt(valAt, err.Error())
		}
		ms = append(ms, m)
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			p.pos++
			return ms, nil
		}
		return nil, p.errAt(p.pos, fmt.Sprintf("expected ',' or '}' in label selector, found %s", p.describe()))
	}
}

// quoted reads a double-quoted string with Go escapes.
func (p *parser) quoted() (string, error) {
	start := p.pos
	if p.pos >= len(p.src) || p.src[p.pos] != '"' {
		return "", p.errAt(p.pos, fmt.Sprintf("expected a double-quoted label value, found %s", p.describe()))
	}
	i := p.pos + 1
	for i < len(p.src) && p.src[i] != '"' {
		if p.src[i] == '\\' {
			i++
		}
		if i < len(p.src) && p.src[i] == '\n' {
			return "", p.errAt(i, "newline in label value")
		}
		i++
	}
	if i >= len(p.src) {
		return "", p.errAt(start, "unterminated label value")
	}
	s, err := strconv.Unquote(p.src[start : i+1])
	if err != nil {
		return "", p.errAt(start, "invalid escape in label value")
	}
	p.pos = i + 1
	return s, nil
}
