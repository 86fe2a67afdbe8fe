package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// The strict decoder walks a yaml.Node tree and a Go value side by side. It
// reports every unknown key (with the closest known key), every value of the
// wrong type and every bad duration as a positioned Problem, keeps going
// after each, and decodes leaves with yaml's own Node.Decode.

const (
	// maxSteps bounds the work on one document, so aliases that multiply
	// (the "billion laughs") cannot make loading explode.
	maxSteps = 1 << 20
	// maxDepth bounds recursion through nested values and merge keys.
	maxDepth = 200
)

var (
	durationType     = reflect.TypeFor[time.Duration]()
	posType          = reflect.TypeFor[Pos]()
	textUnmarshaler  = reflect.TypeFor[encoding.TextUnmarshaler]()
	yamlUnmarshaler  = reflect.TypeFor[yaml.Unmarshaler]()
	funcUnmarshaler  = reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()
	nodeDecoderType  = reflect.TypeFor[nodeDecoder]()
	structFieldCache sync.Map // reflect.Type -> *structFields
)

// nodeDecoder is implemented by types that decode themselves with access to
// the decoder (so their problems carry positions): *Channel, *SeverityMatch.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

type decoder struct {
	file   string
	getenv func(string) string
	// expand turns on ${VAR} expansion of scalars (off for environment
	// channels, whose values are literal).
	expand bool
	opts   *LoadOptions
	probs  Problems
	// shown is what messages quote instead of a scalar's value: its text
	// before expansion, or a variable name, so expanded secrets never show.
	shown map[*yaml.Node]string
	// expanded marks scalars already expanded (aliases reach nodes twice).
	expanded map[*yaml.Node]bool
	// extra are key names accepted beside a struct's own fields at node
	// extraAt (the common channel keys), offered as suggestions.
	extra   []string
	extraAt *yaml.Node
	steps   int
	depth   int
}

func newDecoder(file string, opts *LoadOptions) *decoder {
	return &decoder{
		file:     file,
		getenv:   opts.getenv(),
		expand:   true,
		opts:     opts,
		shown:    map[*yaml.Node]string{},
		expanded: map[*yaml.Node]bool{},
	}
}

// addAt records a problem at n's position (none when n is nil).
func (d *decoder) addAt(n *yaml.Node, path, format string, args ...any) {
	p := Problem{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	d.probs = append(d.probs, p)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// show returns the text to quote for scalar n.
func (d *decoder) show(n *yaml.Node) string {
	if s, ok := d.shown[n]; ok {
		return s
	}
	return n.Value
}

// describe names what n is, for "expected X, got Y" messages.
func (d *decoder) describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(d.show(n))
	}
	return "an unexpected node"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

// budget counts one step of work and reports false once the document has
// used up its budget (recording that once).
func (d *decoder) budget(n *yaml.Node, path string) bool {
	d.steps++
	if d.steps == maxSteps {
		d.addAt(n, path, "document too large (too many aliases?)")
	}
	return d.steps < maxSteps
}

// decode fills v from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if !d.budget(n, path) {
		return
	}
	if d.depth >= maxDepth {
		d.addAt(n, path, "nested too deeply")
		return
	}
	d.depth++
	defer func() { d.depth-- }()

	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		d.expandScalar(n, path)
	}
	t := v.Type()
	if v.CanAddr() && reflect.PointerTo(t).Implements(nodeDecoderType) {
		v.Addr().Interface().(nodeDecoder).decodeNode(d, n, path)
		return
	}
	if t == durationType {
		d.duration(n, v, path)
		return
	}
	if isNull(n) {
		if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
			// A key with nothing under it still makes a (zero) section,
			// so its position is known and validation can name it.
			nv := reflect.New(t.Elem())
			d.decode(n, nv.Elem(), path)
			v.Set(nv)
			return
		}
		v.SetZero()
		if t.Kind() == reflect.Struct {
			d.setPos(n, v)
		}
		return
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		pt := reflect.PointerTo(t)
		if pt.Implements(yamlUnmarshaler) || pt.Implements(funcUnmarshaler) || pt.Implements(textUnmarshaler) {
			p := reflect.New(t)
			if n.Kind != yaml.ScalarNode && pt.Implements(textUnmarshaler) &&
				!pt.Implements(yamlUnmarshaler) && !pt.Implements(funcUnmarshaler) {
				d.addAt(n, path, "expected a single value, got %s", d.describe(n))
				return
			}
			d.expandTree(n, path)
			if err := n.Decode(p.Interface()); err != nil {
				d.addAt(n, path, "%s", cleanYAMLError(err))
				return
			}
			v.Set(p.Elem())
			return
		}
	}

	switch t.Kind() {
	case reflect.Pointer:
		nv := reflect.New(t.Elem())
		before := len(d.probs)
		d.depth--
		d.decode(n, nv.Elem(), path)
		d.depth++
		// A value that failed to decode stays unset (threshold: abc leaves
		// Threshold nil); sections stay, so references to them still work.
		if len(d.probs) == before || t.Elem().Kind() == reflect.Struct {
			v.Set(nv)
		}
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Interface:
		d.expandTree(n, path)
		p := reflect.New(t)
		if err := n.Decode(p.Interface()); err != nil {
			d.addAt(n, path, "%s", cleanYAMLError(err))
			return
		}
		v.Set(p.Elem())
	default:
		d.decodeLeaf(n, v, path)
	}
}

func (d *decoder) decodeLeaf(n *yaml.Node, v reflect.Value, path string) {
	want := kindName(v.Type())
	if n.Kind != yaml.ScalarNode {
		d.addAt(n, path, "expected %s, got %s", want, d.describe(n))
		return
	}
	if isInteger(v.Kind()) && n.ShortTag() == "!!float" && !wholeNumber(n.Value, isUnsigned(v.Kind())) {
		// yaml.v3 would truncate 1.5 to 1, and 0.5 to 0 (a default). A
		// whole number in another form (1e+06, as Helm renders 1000000;
		// 2.0) is taken as it is.
		d.addAt(n, path, "expected %s, got %s", want, d.describe(n))
		return
	}
	p := reflect.New(v.Type())
	if err := n.Decode(p.Interface()); err != nil {
		d.addAt(n, path, "expected %s, got %s", want, d.describe(n))
		return
	}
	v.Set(p.Elem())
}

// wholeNumber reports whether a YAML float's text is exactly a whole
// number below 2^53 in magnitude (so its float64 is exact), and not
// negative when unsigned. It reads the digits themselves: 1.00000000000000001
// rounds to 1 as a float64 but is a fraction.
func wholeNumber(text string, unsigned bool) bool {
	t := strings.ReplaceAll(text, "_", "")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) >= 1<<53 || unsigned && f < 0 {
		return false
	}
	t = strings.TrimLeft(t, "+-")
	mant, exp := t, 0
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant = t[:i]
		if exp, err = strconv.Atoi(t[i+1:]); err != nil {
			return false
		}
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	// The point sits after len(intPart)+exp digits; every digit after it
	// must be 0.
	point := min(max(len(intPart)+exp, 0), len(digits))
	return strings.Trim(digits[point:], "0") == ""
}

func isUnsigned(k reflect.Kind) bool {
	switch k {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return isUnsigned(k)
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// cleanYAMLError turns a yaml error into a message without the "yaml:" and
// "line N:" prefixes (the problem carries the position).
func cleanYAMLError(err error) string {
	var msgs []string
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	for i, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if _, after, ok := strings.Cut(rest, ": "); ok {
				m = after
			}
		}
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.SetInt(0)
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.addAt(n, path, "expected a duration (30s, 5m, 1h), got %s", d.describe(n))
		return
	}
	dur, err := parseDuration(n.Value)
	if err != nil {
		d.addAt(n, path, "invalid duration %q (use 30s, 5m, 1h)", d.show(n))
		return
	}
	if dur < 0 {
		d.addAt(n, path, "duration %q must not be negative", d.show(n))
		return
	}
	v.SetInt(int64(dur))
}

// parseDuration reads a Go duration ("1h30m", "500ms"), a bare 0, or days
// in front of one ("7d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimLeft(s, "+-")
	var days time.Duration
	if i := strings.IndexByte(body, 'd'); i > 0 {
		n, err := strconv.ParseUint(body[:i], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		body = body[i+1:]
		if body == "" {
			body = "0"
		}
	}
	rest, err := time.ParseDuration(body)
	if err != nil || strings.ContainsAny(body, "+-") {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	total := days + rest
	if total < days {
		return 0, fmt.Errorf("duration %q out of range", s)
	}
	if neg {
		total = -total
	}
	return total, nil
}

type pair struct{ key, val *yaml.Node }

// pairs returns the key/value pairs of mapping n, with merge keys ("<<")
// flattened in (explicit keys win) and duplicate keys reported.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	if d.depth >= maxDepth {
		d.addAt(n, path, "nested too deeply")
		return nil
	}
	d.depth++
	defer func() { d.depth-- }()
	var out, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !d.budget(n, path) {
			return out
		}
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.addAt(k, path, "a key must be a plain value, got %s", d.describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(val, path)...)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.addAt(k, join(path, k.Value), "duplicate key %q (first at line %d)", k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, val})
	}
	for _, p := range merged {
		if _, ok := seen[p.key.Value]; !ok {
			seen[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return out
}

func (d *decoder) mergePairs(val *yaml.Node, path string) []pair {
	val = resolve(val)
	switch val.Kind {
	case yaml.MappingNode:
		return d.pairs(val, path)
	case yaml.SequenceNode:
		var out []pair
		seen := map[string]bool{}
		for _, item := range val.Content {
			item = resolve(item)
			if item.Kind != yaml.MappingNode {
				d.addAt(item, path, "a merge (<<) takes mappings, got %s", d.describe(item))
				continue
			}
			for _, p := range d.pairs(item, path) {
				if !seen[p.key.Value] {
					seen[p.key.Value] = true
					out = append(out, p)
				}
			}
		}
		return out
	}
	d.addAt(val, path, "a merge (<<) takes a mapping, got %s", d.describe(val))
	return nil
}

type structFields struct {
	fields map[string][]int
	names  []string
	pos    []int
}

func fieldsOf(t reflect.Type) *structFields {
	if sf, ok := structFieldCache.Load(t); ok {
		return sf.(*structFields)
	}
	sf := &structFields{fields: map[string][]int{}}
	collectFields(t, nil, sf)
	for name := range sf.fields {
		sf.names = append(sf.names, name)
	}
	slices.Sort(sf.names)
	structFieldCache.Store(t, sf)
	return sf
}

func collectFields(t reflect.Type, prefix []int, sf *structFields) {
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(slices.Clone(prefix), i)
		tag := f.Tag.Get("yaml")
		if f.Name == "Pos" && f.Type == posType && prefix == nil {
			sf.pos = idx
			continue
		}
		if tag == "-" {
			continue
		}
		name, flags, _ := strings.Cut(tag, ",")
		if slices.Contains(strings.Split(flags, ","), "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, idx, sf)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, dup := sf.fields[name]; !dup {
			sf.fields[name] = idx
		}
	}
}

// fieldAt returns the field at idx, allocating inline pointers on the way.
func fieldAt(v reflect.Value, idx []int) reflect.Value {
	for i, x := range idx {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func (d *decoder) setPos(n *yaml.Node, v reflect.Value) {
	if sf := fieldsOf(v.Type()); sf.pos != nil {
		v.FieldByIndex(sf.pos).Set(reflect.ValueOf(Pos{Line: n.Line, Col: n.Column}))
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	d.setPos(n, v)
	if n.Kind != yaml.MappingNode {
		d.addAt(n, path, "expected a mapping, got %s", d.describe(n))
		return
	}
	sf := fieldsOf(v.Type())
	for _, p := range d.pairs(n, path) {
		idx, ok := sf.fields[p.key.Value]
		if !ok && path == "" && strings.HasPrefix(p.key.Value, "x-") {
			// Top-level x- keys are free for YAML anchors to live in.
			continue
		}
		if !ok {
			names := sf.names
			if n == d.extraAt {
				names = append(slices.Clone(names), d.extra...)
			}
			d.addAt(p.key, join(path, p.key.Value), "%s", unknownKey(p.key.Value, names))
			continue
		}
		d.decode(p.val, fieldAt(v, idx), join(path, p.key.Value))
	}
}

// unknownKey words the problem for key, suggesting the closest of known.
func unknownKey(key string, known []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if best := closest(key, known); best != "" {
		return msg + " (did you mean " + best + "?)"
	}
	if len(known) > 0 && len(known) <= 12 {
		return msg + " (known: " + strings.Join(known, ", ") + ")"
	}
	return msg
}

// closest returns the candidate nearest to s by edit distance when it is
// near enough to be a likely typo, else "".
func closest(s string, candidates []string) string {
	best, bestDist := "", -1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		dist := levenshtein(ls, strings.ToLower(c))
		if bestDist < 0 || dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if bestDist < 0 || bestDist > max(2, len(s)/3) || bestDist >= len(s) {
		return ""
	}
	return best
}

func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.addAt(n, path, "expected a mapping, got %s", d.describe(n))
		return
	}
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	for _, p := range d.pairs(n, path) {
		kp := reflect.New(t.Key())
		if err := p.key.Decode(kp.Interface()); err != nil {
			d.addAt(p.key, path, "bad key %q: %s", p.key.Value, cleanYAMLError(err))
			continue
		}
		ev := reflect.New(t.Elem()).Elem()
		d.decode(p.val, ev, join(path, p.key.Value))
		v.SetMapIndex(kp.Elem(), ev)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	switch n.Kind {
	case yaml.SequenceNode:
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), index(path, i))
		}
		v.Set(s)
	case yaml.ScalarNode:
		// A single value where a list of values is expected is a list of
		// one: notify: ops.
		switch t.Elem().Kind() {
		case reflect.String, reflect.Int, reflect.Int64, reflect.Float64, reflect.Bool:
			s := reflect.MakeSlice(t, 1, 1)
			d.decode(n, s.Index(0), index(path, 0))
			v.Set(s)
			return
		}
		d.addAt(n, path, "expected a list, got %s", d.describe(n))
	default:
		d.addAt(n, path, "expected a list, got %s", d.describe(n))
	}
}
