package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/klaxonhq/klaxon/alert"
	"gopkg.in/yaml.v3"
)

// SeverityMatch is the set of severities a route accepts, most urgent
// first. Empty accepts every severity. In YAML it is one name
// ("critical"), a list ([critical, high]) or a comparison (">= high",
// "< medium"; operators >= > <= < ==).
type SeverityMatch []alert.Severity

// Matches reports whether s is accepted.
func (m SeverityMatch) Matches(s alert.Severity) bool {
	return len(m) == 0 || slices.Contains(m, s)
}

// ParseSeverityMatch reads one scalar form: a name or a comparison.
func ParseSeverityMatch(s string) (SeverityMatch, error) {
	s = strings.TrimSpace(s)
	op := ""
	for _, o := range []string{">=", "<=", "==", ">", "<", "="} {
		if rest, ok := strings.CutPrefix(s, o); ok {
			op, s = o, strings.TrimSpace(rest)
			break
		}
	}
	sev, err := alert.ParseSeverity(s)
	if err != nil {
		return nil, err
	}
	var out SeverityMatch
	for _, x := range alert.Severities {
		ok := false
		switch op {
		case ">=":
			ok = x >= sev
		case ">":
			ok = x > sev
		case "<=":
			ok = x <= sev
		case "<":
			ok = x < sev
		default:
			ok = x == sev
		}
		if ok {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q matches no severity", op+" "+sev.String())
	}
	return out, nil
}

func (m *SeverityMatch) decodeNode(d *decoder, n *yaml.Node, path string) {
	*m = nil
	switch {
	case isNull(n):
	case n.Kind == yaml.ScalarNode:
		v, err := ParseSeverityMatch(n.Value)
		if err != nil {
			d.addAt(n, path, "%s", err)
			return
		}
		*m = v
	case n.Kind == yaml.SequenceNode:
		var out SeverityMatch
		for i, item := range n.Content {
			item = resolve(item)
			if item.Kind == yaml.ScalarNode {
				d.expandScalar(item, index(path, i))
			}
			if item.Kind != yaml.ScalarNode {
				d.addAt(item, index(path, i), "expected a severity, got %s", d.describe(item))
				continue
			}
			s, err := alert.ParseSeverity(item.Value)
			if err != nil {
				d.addAt(item, index(path, i), "%s", err)
				continue
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		slices.SortFunc(out, func(a, b alert.Severity) int { return int(b) - int(a) })
		*m = out
	default:
		d.addAt(n, path, "expected a severity, a list of severities or a comparison (>= high), got %s", d.describe(n))
	}
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ParseLabelMatcher reads "name=value", "name!=value", "name=~regex" or
// "name!~regex"; the value may be double-quoted.
func ParseLabelMatcher(s string) (alert.Matcher, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "=!")
	if i <= 0 {
		return alert.Matcher{}, fmt.Errorf("label matcher %q: want name=value, name!=value, name=~regex or name!~regex", s)
	}
	name := strings.TrimSpace(s[:i])
	rest := s[i:]
	var op alert.MatchOp
	for _, o := range []alert.MatchOp{alert.MatchRegexp, alert.MatchNotRegexp, alert.MatchNotEqual, alert.MatchEqual} {
		if strings.HasPrefix(rest, string(o)) {
			op = o
			break
		}
	}
	if op == "" {
		return alert.Matcher{}, fmt.Errorf("label matcher %q: want name=value, name!=value, name=~regex or name!~regex", s)
	}
	if !labelNameRE.MatchString(name) {
		return alert.Matcher{}, fmt.Errorf("label matcher %q: invalid label name %q", s, name)
	}
	value := strings.TrimSpace(rest[len(op):])
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = strings.ReplaceAll(value[1:len(value)-1], `\"`, `"`)
	}
	return alert.NewMatcher(name, op, value)
}

// Matchers returns the label part of the match: an equality matcher per
// Labels entry (sorted by name) followed by the parsed LabelMatchers.
func (m *Match) Matchers() (alert.Matchers, error) {
	var out alert.Matchers
	for _, name := range slices.Sorted(maps.Keys(m.Labels)) {
		mt, err := alert.NewMatcher(name, alert.MatchEqual, m.Labels[name])
		if err != nil {
			return nil, err
		}
		out = append(out, mt)
	}
	for _, s := range m.LabelMatchers {
		mt, err := ParseLabelMatcher(s)
		if err != nil {
			return nil, err
		}
		out = append(out, mt)
	}
	return out, nil
}
