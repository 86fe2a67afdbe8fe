package alert

import (
	"fmt"
	"regexp"
	"strings"
)

// MatchOp is how a Matcher compares a label value.
type MatchOp string

// Matcher operators, as written in selectors and silences.
const (
	MatchEqual     MatchOp = "="
	MatchNotEqual  MatchOp = "!="
	MatchRegexp    MatchOp = "=~"
	MatchNotRegexp MatchOp = "!~"
)

// Matcher tests one label. A missing label matches as the empty string, as in
// Prometheus: {team!="db"} matches an alert without a team label.
// Build matchers with NewMatcher so regular expressions are compiled once.
type Matcher struct {
	Name  string  `json:"name"`
	Op    MatchOp `json:"op"`
	Value string  `json:"value"`

	re *regexp.Regexp
}

// NewMatcher validates and compiles a matcher. Regular expressions are
// anchored at both ends.
func NewMatcher(name string, op MatchOp, value string) (Matcher, error) {
	m := Matcher{Name: name, Op: op, Value: value}
	if name == "" {
		return Matcher{}, fmt.Errorf("matcher has an empty label name")
	}
	switch op {
	case MatchEqual, MatchNotEqual:
	case MatchRegexp, MatchNotRegexp:
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return Matcher{}, fmt.Errorf("matcher %s: bad regular expression: %w", name, err)
		}
		m.re = re
	default:
		return Matcher{}, fmt.Errorf("matcher %s: unknown operator %q (want =, !=, =~ or !~)", name, op)
	}
	return m, nil
}

// Compile fills in the compiled regular expression of a matcher that was
// decoded from JSON or a database row. It is a no-op for equality matchers.
func (m *Matcher) Compile() error {
	c, err := NewMatcher(m.Name, m.Op, m.Value)
	if err != nil {
		return err
	}
	*m = c
	return nil
}

// Matches reports whether the labels satisfy the matcher.
func (m *Matcher) Matches(l Labels) bool {
	v := l[m.Name]
	switch m.Op {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp, MatchNotRegexp:
		if m.re == nil {
			if err := m.Compile(); err != nil {
				return false
			}
		}
		ok := m.re.MatchString(v)
		if m.Op == MatchRegexp {
			return ok
		}
		return !ok
	}
	return false
}

// String renders the matcher as name="value".
func (m Matcher) String() string {
	return m.Name + string(m.Op) + `"` + strings.ReplaceAll(m.Value, `"`, `\"`) + `"`
}

// Matchers is a conjunction: all must match.
type Matchers []Matcher

// Matches reports whether every matcher matches l. An empty set matches all.
func (ms Matchers) Matches(l Labels) bool {
	for i := range ms {
		if !ms[i].Matches(l) {
			return false
		}
	}
	return true
}
