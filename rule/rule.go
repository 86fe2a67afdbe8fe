package rule

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

// NoDataMode says what happens to a pending or firing series whose condition
// has no data in an evaluation (its metric has no samples).
type NoDataMode string

// No-data modes. The zero value means NoDataKeep.
const (
	// NoDataKeep keeps the series' state: the evaluator reports it with State
	// NoData (and Kept set to the state it keeps), and the lifecycle leaves
	// the alert as it is. No data is neither a breach nor a recovery.
	NoDataKeep NoDataMode = "keep"
	// NoDataResolve reports the series Inactive once, so its alert resolves,
	// and forgets it.
	NoDataResolve NoDataMode = "resolve"
	// NoDataAlert reports the series Firing (a pending series fires at once)
	// for as long as it has no data.
	NoDataAlert NoDataMode = "alert"
)

// ParseNoDataMode reads "keep", "resolve" or "alert"; "" is NoDataKeep.
func ParseNoDataMode(s string) (NoDataMode, error) {
	switch m := NoDataMode(s); m {
	case "":
		return NoDataKeep, nil
	case NoDataKeep, NoDataResolve, NoDataAlert:
		return m, nil
	}
	return "", fmt.Errorf("%w: unknown no_data mode %q (want keep, resolve or alert)", ErrInvalid, s)
}

// Rule is an alerting rule: a condition evaluated on an interval for every
// series it selects.
type Rule struct {
	// ID identifies the rule; it is the "alertname" label of its alerts and
	// part of their fingerprints. Required.
	ID string
	// Name is the display name; empty means ID.
	Name string
	// Condition is the condition's source text. The evaluator parses it when
	// Expr is nil.
	Condition string
	// Expr is the parsed condition. When set it wins over Condition; build it
	// with Parse or Threshold.
	Expr Expr
	// For is how long the condition must hold before a series fires; 0 fires
	// at once (no pending state).
	For time.Duration
	// Severity of the rule's alerts. Required (alert.Info..alert.Critical).
	Severity alert.Severity
	// Labels are added to every alert of the rule, overriding series labels
	// of the same name.
	Labels alert.Labels
	// Annotations are free-form texts (templates) such as "summary" and
	// "description"; the evaluator does not read them.
	Annotations map[string]string
	// Recovery, when set, is the condition that resolves a firing series:
	// the series keeps firing while its condition is false until Recovery is
	// true for it (matched by identical labels, or Recovery yields one
	// unlabelled series). Nil means the series resolves as soon as its
	// condition is false (after Hold).
	Recovery Expr
	// Hold damps flapping: a firing series resolves only after it has been
	// clear (condition false and, if set, Recovery true) for Hold without
	// interruption. 0 resolves at once.
	Hold time.Duration
	// NoData is what a pending or firing series does while it has no data;
	// "" means NoDataKeep.
	NoData NoDataMode
}

// DisplayName returns Name, or ID when Name is empty.
func (r *Rule) DisplayName() string {
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

// FieldError is a rule setting that is wrong. Field is the configuration key
// ("condition", "for", "severity").
type FieldError struct {
	Field string
	Err   error
}

// Error reads "field: problem".
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the underlying error (a *SyntaxError for conditions).
func (e *FieldError) Unwrap() error { return e.Err }

// Is reports true for ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Validate checks the rule and returns every problem joined, each a
// *FieldError naming its field: id (required), condition (required unless Expr
// is set; must parse), for and hold (not negative), severity (required, valid),
// no_data (keep, resolve or alert), labels (no empty names).
func (r *Rule) Validate() error {
	var errs []error
	bad := func(field string, err error) { errs = append(errs, &FieldError{Field: field, Err: err}) }
	if r.ID == "" {
		bad("id", errors.New("must not be empty"))
	}
	if r.Expr != nil {
		if err := CheckExpr(r.Expr); err != nil {
			bad("condition", err)
		}
	} else {
		if r.Condition == "" {
			bad("condition", errors.New("must not be empty"))
		} else if _, err := Parse(r.Condition); err != nil {
			bad("condition", err)
		}
	}
	if r.Recovery != nil {
		if err := CheckExpr(r.Recovery); err != nil {
			bad("recovery", err)
		}
	}
	if r.For < 0 {
		bad("for", errors.New("must not be negative"))
	}
	if r.Hold < 0 {
		bad("hold", errors.New("must not be negative"))
	}
	if !r.Severity.Valid() {
		bad("severity", fmt.Errorf("must be one of critical, high, medium, low or info, got %s", r.Severity))
	}
	if _, err := ParseNoDataMode(string(r.NoData)); err != nil {
		bad("no_data", fmt.Errorf("unknown mode %q (want keep, resolve or alert)", string(r.NoData)))
	}
	for k := range r.Labels {
		if k == "" {
			bad("labels", errors.New("label name must not be empty"))
			break
		}
	}
	return errors.Join(errs...)
}

// CheckExpr reports whether an Expr built by hand is well formed: no nil
// nodes, valid operators and functions, valid metric names, finite
// thresholds, a positive window on aggregates. Whatever Parse and Threshold
// return passes.
func CheckExpr(x Expr) error {
	switch x := x.(type) {
	case *Compare:
		if x == nil {
			break
		}
		if x.Op < OpGT || x.Op > OpNE {
			return fmt.Errorf("%w: unknown comparison operator %d", ErrInvalid, int(x.Op))
		}
		if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
			return fmt.Errorf("%w: threshold must be a finite number", ErrInvalid)
		}
		return checkQuery(x.Query, true)
	case *Absent:
		if x == nil {
			break
		}
		return checkQuery(x.Query, false)
	case *Binary:
		if x == nil {
			break
		}
		if x.Op != And && x.Op != Or {
			return fmt.Errorf("%w: unknown boolean operator %d", ErrInvalid, int(x.Op))
		}
		if err := CheckExpr(x.Left); err != nil {
			return err
		}
		return CheckExpr(x.Right)
	}
	return fmt.Errorf("%w: nil expression", ErrInvalid)
}

func checkQuery(q Query, aggregate bool) error {
	if !validMetricName(q.Metric) {
		return fmt.Errorf("%w: invalid metric name %q", ErrInvalid, q.Metric)
	}
	if q.Window < 0 {
		return fmt.Errorf("%w: negative window", ErrInvalid)
	}
	if aggregate {
		if _, ok := metric.ParseFunc(q.Func.String()); !ok {
			return fmt.Errorf("%w: unknown function %d", ErrInvalid, int(q.Func))
		}
		if (q.Func == metric.Last) != (q.Window == 0) {
			return fmt.Errorf("%w: %s needs a positive window, and only aggregates take one", ErrInvalid, q.Func)
		}
	} else if q.Func != metric.Last {
		return fmt.Errorf("%w: absent takes no function", ErrInvalid)
	}
	for _, m := range q.Matchers {
		if _, err := alert.NewMatcher(m.Name, m.Op, m.Value); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	return nil
}

// expr returns the rule's parsed condition.
func (r *Rule) expr() (Expr, error) {
	if r.Expr != nil {
		return r.Expr, nil
	}
	e, err := Parse(r.Condition)
	if err != nil {
		return nil, &FieldError{Field: "condition", Err: err}
	}
	return e, nil
}
