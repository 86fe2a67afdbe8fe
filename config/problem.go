package config

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Pos is a position in a configuration file: 1-based line and column. The
// zero Pos means "not from a file" (defaults, environment).
type Pos struct {
	Line int
	Col  int
}

// String renders "LINE:COL", or "" for the zero Pos.
func (p Pos) String() string {
	if p.Line == 0 {
		return ""
	}
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Problem is one thing wrong with a configuration. Problems from a file
// carry the file name and the position of the offending key or value;
// problems from the environment carry neither and name the variable in Path
// or Msg.
type Problem struct {
	// File is the file name as given to Load or Parse; "" for the environment.
	File string
	// Line and Col are 1-based; 0 when the problem has no position.
	Line, Col int
	// Path is the field path ("rules[0].for", "channels.ops.url"), or an
	// environment variable name; "" when Msg says everything.
	Path string
	// Msg says what is wrong. It never contains a secret's value.
	Msg string
}

// String renders the problem as "FILE:LINE:COL: field.path: message",
// leaving out the parts that are empty.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Line > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", p.File, p.Line, p.Col)
	case p.File != "":
		b.WriteString(p.File + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in a configuration, sorted by position. It
// is the error Load, Parse, FromEnv and ApplyEnv return when the
// configuration is wrong; use errors.As to get at the list.
type Problems []Problem

// Error renders one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sorted orders problems by file position (keeping the order of those
// without one) and drops exact duplicates (a node reached through two
// aliases reports once).
func (ps Problems) sorted() Problems {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return slices.Compact(ps)
}

// FieldError is what a channel configuration's Validate method returns (or
// wraps, or joins several of) to blame one key: Load then points at that
// key's line. Field is the key path inside the channel ("smtp_port",
// "headers.X-Token", "to[1]").
type FieldError struct {
	Field string
	Msg   string
}

// Error reads "field: msg".
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }
