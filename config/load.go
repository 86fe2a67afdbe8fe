package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

//go:embed default.yml
var defaultYAML []byte

// Load reads and checks the configuration file at path. A file with
// problems gives a Problems error listing all of them, each with the file,
// line and column; an unreadable file gives the read error.
func Load(path string, opts *LoadOptions) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse reads and checks a configuration from data; name is the file name
// problems carry. ${VAR} and ${VAR:-default} in values expand from
// opts.Getenv ($$ is a literal $). It collects every problem rather than
// stopping at the first and returns them as Problems, sorted by position.
// The returned configuration has its defaults filled in.
func Parse(name string, data []byte, opts *LoadOptions) (*Config, error) {
	if opts == nil {
		opts = &LoadOptions{}
	}
	root, probs := parseYAML(name, data)
	if len(probs) > 0 {
		return nil, probs
	}
	d := newDecoder(name, opts)
	cfg := &Config{}
	if root != nil {
		d.decode(root, reflect.ValueOf(cfg).Elem(), "")
	}
	cfg.File = name
	for n, ch := range cfg.Channels {
		ch.Name = n
	}
	out := cfg.WithDefaults()
	d.validate(out, root)
	if len(d.probs) > 0 {
		probs := d.probs.sorted()
		for i := range probs {
			if probs[i].Line < 1 {
				probs[i].Line, probs[i].Col = 1, 1
			}
		}
		return nil, probs
	}
	return out, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML reads the one document in data; nil root for an empty file.
func parseYAML(name string, data []byte) (*yaml.Node, Problems) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, Problems{syntaxProblem(name, err)}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, Problems{{File: name, Line: max(extra.Line, 1), Col: max(extra.Column, 1),
			Msg: "a configuration file holds one YAML document; found another"}}
	case !errors.Is(err, io.EOF):
		return nil, Problems{syntaxProblem(name, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func syntaxProblem(name string, err error) Problem {
	p := Problem{File: name, Line: 1, Col: 1, Msg: cleanYAMLError(err)}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		if l, convErr := strconv.Atoi(m[1]); convErr == nil && l > 0 {
			p.Line = l
		}
		p.Msg = m[2]
	}
	p.Msg = "invalid YAML: " + p.Msg
	return p
}

// Default returns the embedded default configuration (what `klaxon serve`
// runs with no file and no MCP_ALERT_* variables): the defaults of every
// field, the built-in runtime rules, a console channel and a route sending
// every alert to it. Channel Config values are nil (the console channel's
// defaults). Use FromEnv to add the environment's channels.
func Default() *Config {
	cfg, err := defaultConfig(nil)
	if err != nil {
		panic("config: embedded default.yml is invalid: " + err.Error())
	}
	cfg.Routes = DefaultRoutes(cfg.Channels)
	return cfg.WithDefaults()
}

// defaultConfig parses default.yml and adds the console channel (when the
// registry, if any, knows the console type).
func defaultConfig(opts *LoadOptions) (*Config, error) {
	cfg, err := Parse("default.yml", defaultYAML, &LoadOptions{
		ChannelTypes:   opts.channelTypes(),
		ParseCondition: opts.parseCondition(),
		CheckTemplate:  opts.checkTemplate(),
		Getenv:         func(string) string { return "" },
	})
	if err != nil {
		return nil, err
	}
	cfg.File = ""
	if types := opts.channelTypes(); types == nil || hasKey(types, "console") {
		d := newDecoder("", opts)
		d.expand = false
		ch := d.envChannel(envSpec{name: "console"})
		if len(d.probs) > 0 {
			return nil, d.probs.sorted()
		}
		cfg.Channels = map[string]*Channel{"console": ch}
	}
	return cfg, nil
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

func (o *LoadOptions) channelTypes() map[string]ChannelType {
	if o == nil {
		return nil
	}
	return o.ChannelTypes
}

func (o *LoadOptions) parseCondition() func(string) error {
	if o == nil {
		return nil
	}
	return o.ParseCondition
}

func (o *LoadOptions) checkTemplate() func(string, string) error {
	if o == nil {
		return nil
	}
	return o.CheckTemplate
}
