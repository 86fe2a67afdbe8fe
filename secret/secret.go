// Package secret holds credentials (tokens, passwords, routing keys, webhook
// URLs that embed tokens) in a type that never prints its value: String,
// GoString, JSON, text marshalling and slog all show a placeholder. Reveal is
// the one way to read it, so every use is easy to find in review.
package secret

import (
	"encoding/json"
	"log/slog"
	"strings"
)

// Redacted is what a non-empty secret prints as.
const Redacted = "<secret>"

// String is a secret string. The zero value is the empty secret, which prints
// as "" so configuration dumps still show that nothing is set.
type String struct {
	v string
}

// New wraps a value.
func New(v string) String { return String{v: v} }

// Reveal returns the value. Call it only where the value goes on the wire.
func (s String) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s.v == "" }

func (s String) shown() string {
	if s.v == "" {
		return ""
	}
	return Redacted
}

// String returns a placeholder, never the value.
func (s String) String() string { return s.shown() }

// GoString returns a placeholder, so %#v does not leak either.
func (s String) GoString() string { return `secret.String("` + s.shown() + `")` }

// LogValue makes slog print the placeholder.
func (s String) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// MarshalJSON encodes the placeholder.
func (s String) MarshalJSON() ([]byte, error) { return json.Marshal(s.shown()) }

// MarshalText encodes the placeholder.
func (s String) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// UnmarshalText reads a value (from YAML or JSON configuration).
func (s *String) UnmarshalText(b []byte) error {
	s.v = string(b)
	return nil
}

// UnmarshalYAML reads a value from a yaml.v3 node.
func (s *String) UnmarshalYAML(unmarshal func(any) error) error {
	var v string
	if err := unmarshal(&v); err != nil {
		return err
	}
	s.v = v
	return nil
}

// Scrub replaces every occurrence of the secret's value in text with the
// placeholder. Use it on error messages from libraries that may echo a URL or
// a token back (net/http errors quote the request URL).
func (s String) Scrub(text string) string {
	if len(s.v) < 4 {
		return text
	}
	return strings.ReplaceAll(text, s.v, Redacted)
}
