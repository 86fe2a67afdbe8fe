package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ChannelType tells Load how to decode one channel type's own keys.
type ChannelType struct {
	// NewConfig returns a pointer to a new zero configuration (a struct with
	// yaml tags, such as *webhook.Config). The channel's keys other than
	// type, retry, rate_limit and disabled are decoded into it strictly,
	// then its Validate method, if it has one (Validate() error), runs.
	// Return *FieldError (or wrap or join several) from Validate to point
	// at a key. Nil means the type takes no keys of its own.
	NewConfig func() any
}

// LoadOptions are what Load, Parse, FromEnv and ApplyEnv need from the rest
// of klaxon. A nil *LoadOptions, and each zero field, means the default
// given on the field.
type LoadOptions struct {
	// ChannelTypes is the channel type registry by type name. Nil accepts
	// any type and keeps each channel's own keys as a map[string]any, with
	// no checking; pass the registry wherever problems matter (the CLI
	// does).
	ChannelTypes map[string]ChannelType
	// Getenv reads environment variables for ${VAR} expansion and FromEnv;
	// default os.Getenv. Empty counts as unset.
	Getenv func(string) string
	// ParseCondition checks a rule condition; its error text is reported
	// (a leading "col N:" also moves the problem's column). Nil skips
	// condition checks.
	ParseCondition func(string) error
	// CheckTemplate checks (parses and test-renders) a template text; name
	// is the template's name (a templates key, or "RULE_ID.summary"). Nil
	// parses the text with text/template, without knowing its functions.
	CheckTemplate func(name, text string) error
	// CheckTemplateWith, when set, is used instead of CheckTemplate with
	// the file's named templates (templates:), which rule texts may include
	// with {{ template "NAME" . }}.
	CheckTemplateWith func(name, text string, named map[string]string) error
	// KnownChannels names channels defined outside the file (in Go, with
	// klaxon.WithChannel) that routes and rules may reference.
	KnownChannels []string
}

// commonChannelKeys are accepted by every channel type.
var commonChannelKeys = []string{"type", "retry", "rate_limit", "breaker", "concurrency", "max_held", "disabled"}

func (o *LoadOptions) knownTypes() string {
	if o == nil || len(o.ChannelTypes) == 0 {
		return "none registered"
	}
	return strings.Join(slices.Sorted(maps.Keys(o.ChannelTypes)), ", ")
}

func (c *Channel) decodeNode(d *decoder, n *yaml.Node, path string) {
	c.Pos = Pos{Line: n.Line, Col: n.Column}
	if n.Kind != yaml.MappingNode {
		d.addAt(n, join(path, "type"), "a channel needs a type (one of %s), got %s", d.opts.knownTypes(), d.describe(n))
		return
	}
	var typeNode *yaml.Node
	var rest []*yaml.Node
	for _, p := range d.pairs(n, path) {
		switch p.key.Value {
		case "type":
			typeNode = resolve(p.val)
			d.decode(p.val, reflect.ValueOf(&c.Type).Elem(), join(path, "type"))
		case "retry":
			d.decode(p.val, reflect.ValueOf(&c.Retry).Elem(), join(path, "retry"))
		case "rate_limit":
			c.RateLimit = new(RateLimit)
			d.decode(p.val, reflect.ValueOf(&c.RateLimit).Elem(), join(path, "rate_limit"))
		case "breaker":
			d.decode(p.val, reflect.ValueOf(&c.Breaker).Elem(), join(path, "breaker"))
		case "concurrency":
			d.decode(p.val, reflect.ValueOf(&c.Concurrency).Elem(), join(path, "concurrency"))
		case "max_held":
			d.decode(p.val, reflect.ValueOf(&c.MaxHeld).Elem(), join(path, "max_held"))
		case "disabled":
			d.decode(p.val, reflect.ValueOf(&c.Disabled).Elem(), join(path, "disabled"))
		default:
			rest = append(rest, p.key, p.val)
		}
	}
	if c.Type == "" {
		if typeNode == nil || isNull(typeNode) {
			d.addAt(n, join(path, "type"), "required (one of %s)", d.opts.knownTypes())
		}
		return
	}
	own := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column, Content: rest}
	if d.opts == nil || d.opts.ChannelTypes == nil {
		if len(rest) > 0 {
			var m map[string]any
			d.decode(own, reflect.ValueOf(&m).Elem(), path)
			c.Config = m
		}
		return
	}
	ct, ok := d.opts.ChannelTypes[c.Type]
	if !ok {
		hint := ""
		if best := closest(c.Type, slices.Collect(maps.Keys(d.opts.ChannelTypes))); best != "" {
			hint = " (did you mean " + best + "?)"
		}
		d.addAt(typeNode, join(path, "type"), "unknown channel type %q%s; known types: %s", c.Type, hint, d.opts.knownTypes())
		return
	}
	var cfg any = &struct{}{}
	if ct.NewConfig != nil {
		cfg = ct.NewConfig()
	}
	rv := reflect.ValueOf(cfg)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		d.addAt(n, path, "channel type %q: NewConfig must return a non-nil pointer, got %T", c.Type, cfg)
		return
	}
	before := len(d.probs)
	d.extra, d.extraAt = commonChannelKeys, own
	d.decode(own, rv.Elem(), path)
	d.extra, d.extraAt = nil, nil
	if ct.NewConfig != nil {
		c.Config = cfg
	}
	if len(d.probs) > before {
		return
	}
	if v, ok := cfg.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			d.channelError(own, n, path, err, rv.Elem().Type())
		}
	}
}

// channelError reports a channel Validate error: each *FieldError at its
// key (or the channel when the key is absent), anything else at the channel.
//
// An error that is not a *FieldError but reads "[prefix: ]KEY: message",
// where KEY is one of the configuration's keys, is treated as if it were
// one, so channel packages that word their errors that way get positions
// too.
func (d *decoder) channelError(own, channel *yaml.Node, path string, err error, t reflect.Type) {
	for _, e := range flatten(err) {
		var fe *FieldError
		if !errors.As(e, &fe) {
			fe = keyedError(e.Error(), t)
		}
		if fe != nil {
			at := channel
			if v, ok := nodeAt(own, fe.Field); ok {
				at = v
			}
			d.addAt(at, join(path, fe.Field), "%s", fe.Msg)
			continue
		}
		d.addAt(channel, path, "%s", e)
	}
}

// keyedError finds a leading "KEY: " (after at most two other prefixes)
// naming a yaml key of struct type t.
func keyedError(msg string, t reflect.Type) *FieldError {
	if t.Kind() != reflect.Struct {
		return nil
	}
	fields := fieldsOf(t).fields
	rest := msg
	for range 3 {
		seg, after, ok := strings.Cut(rest, ": ")
		if !ok {
			return nil
		}
		if _, known := fields[seg]; known && after != "" {
			return &FieldError{Field: seg, Msg: after}
		}
		rest = after
	}
	return nil
}

// flatten splits joined errors (errors.Join, or several %w) into their parts.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			if e != nil {
				out = append(out, flatten(e)...)
			}
		}
		return out
	}
	return []error{err}
}

// nodeAt finds the value node at a relative path ("smtp_port", "to[1]",
// "tls.ca_file") under n. It returns the deepest node found and whether
// the whole path was found.
func nodeAt(n *yaml.Node, path string) (*yaml.Node, bool) {
	cur := resolve(n)
	for _, seg := range splitPath(path) {
		next := (*yaml.Node)(nil)
		if i, err := strconv.Atoi(seg); err == nil && cur.Kind == yaml.SequenceNode {
			if i >= 0 && i < len(cur.Content) {
				next = cur.Content[i]
			}
		} else if cur.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(cur.Content); j += 2 {
				if resolve(cur.Content[j]).Value == seg {
					next = cur.Content[j+1]
					break
				}
			}
		}
		if next == nil {
			return cur, false
		}
		cur = resolve(next)
	}
	return cur, true
}

// splitPath splits "a.b[1].c" into a, b, 1, c.
func splitPath(path string) []string {
	var out []string
	for part := range strings.SplitSeq(path, ".") {
		for {
			open := strings.IndexByte(part, '[')
			if open < 0 || !strings.HasSuffix(part, "]") {
				break
			}
			if open > 0 {
				out = append(out, part[:open])
			}
			idx := part[open+1:]
			close := strings.IndexByte(idx, ']')
			out = append(out, idx[:close])
			part = idx[close+1:]
		}
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// String describes the channel by name and type, never its settings.
func (c *Channel) String() string { return fmt.Sprintf("%s (%s)", c.Name, c.Type) }
