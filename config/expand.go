package config

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// expandEnv replaces ${VAR} and ${VAR:-default} in s with values from
// getenv, and $$ with a single $. A $ followed by anything else stays as
// it is. A variable that is unset or empty and has no default is an error
// naming it; write ${VAR:-} to allow an empty value.
func expandEnv(s string, getenv func(string) string) (string, error) {
	out, _, err := expand(s, getenv)
	return out, err
}

// expand is expandEnv that also reports whether a variable was used.
func expand(s string, getenv func(string) string) (string, bool, error) {
	if !strings.Contains(s, "$") {
		return s, false, nil
	}
	used := false
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '{':
		default:
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", false, fmt.Errorf("unterminated ${ in %q (write $$ for a literal $)", s)
		}
		expr := s[i+2 : i+2+end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", false, fmt.Errorf("invalid variable name %q in ${%s}", name, expr)
		}
		used = true
		v := getenv(name)
		if v == "" {
			if !hasDef {
				missing = append(missing, name)
			}
			v = def
		}
		b.WriteString(v)
		i += 2 + end
	}
	switch len(missing) {
	case 0:
		return b.String(), used, nil
	case 1:
		return "", false, fmt.Errorf("environment variable %s is not set (use ${%s:-default} for a default)", missing[0], missing[0])
	}
	return "", false, fmt.Errorf("environment variables %s are not set", strings.Join(missing, ", "))
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// expandScalar expands n's value in place, once. A plain (unquoted,
// untagged) scalar gets its tag re-resolved, so "port: ${PORT}" decodes as
// a number.
func (d *decoder) expandScalar(n *yaml.Node, path string) {
	if !d.expand || d.expanded[n] {
		return
	}
	d.expanded[n] = true
	if !strings.Contains(n.Value, "$") {
		return
	}
	v, used, err := expand(n.Value, d.getenv)
	if err != nil {
		d.addAt(n, path, "%s", err)
		n.Value, n.Tag, n.Style = "", "!!null", 0
		d.shown[n] = ""
		return
	}
	if v == n.Value {
		return
	}
	if used {
		// A variable may hold a secret: messages quote the text instead.
		d.shown[n] = n.Value
	}
	n.Value = v
	const textual = yaml.TaggedStyle | yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle
	if n.Style&textual == 0 {
		n.Tag = ""
	}
}

// expandTree expands every scalar under n (for values decoded by yaml
// itself, such as interface fields).
func (d *decoder) expandTree(n *yaml.Node, path string) {
	if !d.expand || !d.budget(n, path) || d.depth >= maxDepth {
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	switch n.Kind {
	case yaml.ScalarNode:
		d.expandScalar(n, path)
	case yaml.AliasNode:
		if n.Alias != nil {
			d.expandTree(n.Alias, path)
		}
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			d.expandTree(c, index(path, i))
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.expandTree(n.Content[i+1], join(path, n.Content[i].Value))
		}
	}
}

func (o *LoadOptions) getenv() func(string) string {
	if o != nil && o.Getenv != nil {
		return o.Getenv
	}
	return os.Getenv
}
