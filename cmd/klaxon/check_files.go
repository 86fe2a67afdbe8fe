package main

import (
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/notify/email"
)

// check-config's checks beyond config.Load: what Load accepts but `serve`
// would still refuse when it builds the channels and opens the store, found
// without connecting anywhere. Each gives a config.Problem at the field's
// line in the file.

// checkBeyondLoad runs the checks that need the world outside the file (CA
// files on disk) or the PostgreSQL driver's own parser, on a configuration
// Load accepted from file.
func checkBeyondLoad(file string, cfg *config.Config) config.Problems {
	pos := newPositions(file)
	var probs config.Problems
	for _, ca := range caFiles(cfg) {
		if msg := checkCAFile(ca.value); msg != "" {
			probs = append(probs, pos.problem(ca.path, msg))
		}
	}
	probs = append(probs, checkDatabaseURL(pos, cfg)...)
	slices.SortStableFunc(probs, func(a, b config.Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return probs
}

// fieldPath is a path into the configuration, one map key or list index a
// step, so channel names holding dots stay one step.
type fieldPath []pathStep

type pathStep struct {
	key   string
	index int // when key is ""
}

func (p fieldPath) key(k string) fieldPath { return append(slices.Clip(p), pathStep{key: k}) }
func (p fieldPath) at(i int) fieldPath     { return append(slices.Clip(p), pathStep{index: i}) }

// String renders the path as config problems do: channels.mail.ca_file,
// scrape[0].tls.ca_file.
func (p fieldPath) String() string {
	var b strings.Builder
	for _, s := range p {
		switch {
		case s.key == "":
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case b.Len() > 0:
			b.WriteString("." + s.key)
		default:
			b.WriteString(s.key)
		}
	}
	return b.String()
}

// caFile is one CA file setting found in a configuration.
type caFile struct {
	path  fieldPath
	value string
}

// caFiles lists the CA file settings in cfg, by channel name: email's
// ca_file is the only one (PostgreSQL's sslrootcert is checked with
// server.database_url, which names it).
func caFiles(cfg *config.Config) []caFile {
	var out []caFile
	for name, ch := range cfg.Channels {
		if ec, ok := ch.Config.(*email.Config); ok && ec.CAFile != "" {
			out = append(out, caFile{path: fieldPath{{key: "channels"}, {key: name}, {key: "ca_file"}}, value: ec.CAFile})
		}
	}
	slices.SortFunc(out, func(a, b caFile) int { return cmp.Compare(a.path.String(), b.path.String()) })
	return out
}

// checkCAFile reads a CA file as the channels and the PostgreSQL driver
// will (relative paths from the working directory) and says what is wrong
// with it, or "". The message names the file, never its contents.
func checkCAFile(name string) string {
	fi, err := os.Stat(name)
	if err != nil {
		return fmt.Sprintf("cannot read CA file %q: %s", name, fileErrReason(name, err))
	}
	switch {
	case fi.IsDir():
		return fmt.Sprintf("cannot read CA file %q: it is a directory", name)
	case !fi.Mode().IsRegular():
		// A FIFO or a device would block or never end.
		return fmt.Sprintf("cannot read CA file %q: not a regular file", name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return fmt.Sprintf("cannot read CA file %q: %s", name, fileErrReason(name, err))
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return fmt.Sprintf("no PEM certificate found in CA file %q (want one or more -----BEGIN CERTIFICATE----- blocks)", name)
	}
	return ""
}

// fileErrReason says why a file could not be read, without repeating its
// name.
func fileErrReason(name string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !filepath.IsAbs(name) {
			if wd, werr := os.Getwd(); werr == nil {
				return "no such file (a relative path is read from the working directory, " + wd + ")"
			}
		}
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// positions finds where a field is in the configuration file, by reading
// it again (Load keeps positions only for channels, routes and rules).
type positions struct {
	file string
	root *yaml.Node // nil when the file does not read or parse
}

func newPositions(file string) *positions {
	p := &positions{file: file}
	data, err := os.ReadFile(file)
	if err != nil {
		return p
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil && doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		p.root = doc.Content[0]
	}
	return p
}

// problem is msg about the field at path, positioned at its value (or the
// deepest part of the path found; line 1 when none is).
func (p *positions) problem(path fieldPath, msg string) config.Problem {
	line, col := 1, 1
	if n := p.find(path); n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	return config.Problem{File: p.file, Line: line, Col: col, Path: path.String(), Msg: msg}
}

// find returns the value node at path, following aliases and merge keys
// (<<) as Load does, or the deepest node on the way.
func (p *positions) find(path fieldPath) *yaml.Node {
	cur := unalias(p.root)
	for _, s := range path {
		if cur == nil {
			return nil
		}
		var next *yaml.Node
		if s.key == "" {
			if cur.Kind == yaml.SequenceNode && s.index < len(cur.Content) {
				next = cur.Content[s.index]
			}
		} else {
			next = mapValue(cur, s.key, 0)
		}
		if next == nil {
			return cur
		}
		cur = unalias(next)
	}
	return cur
}

// mapValue is the value of key in mapping n: its own key first, then the
// mappings merged into it.
func mapValue(n *yaml.Node, key string, depth int) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode || depth > 32 {
		return nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := unalias(n.Content[i])
		switch {
		case k.Value == key && k.Tag != "!!merge":
			return n.Content[i+1]
		case k.Tag == "!!merge" || k.Value == "<<":
			m := unalias(n.Content[i+1])
			if m.Kind == yaml.SequenceNode {
				merges = append(merges, m.Content...)
			} else {
				merges = append(merges, m)
			}
		}
	}
	for _, m := range merges {
		if v := mapValue(unalias(m), key, depth+1); v != nil {
			return v
		}
	}
	return nil
}

func unalias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 32; i++ {
		n = n.Alias
	}
	return n
}
