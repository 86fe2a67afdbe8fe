package alert

import (
	"encoding/json"
	"fmt"
)

// State is where an alert is in its lifecycle. The lifecycle package owns the
// moves between states; every move is recorded as a Transition.
type State string

const (
	// StatePending: the rule's condition holds but its `for` duration has not
	// elapsed yet. In: a rule evaluation finds the condition true for a series
	// with no open alert. Out: to active when `for` elapses; the alert is
	// dropped (resolved without notification) when the condition clears first.
	// Pending alerts notify nobody.
	StatePending State = "pending"

	// StateActive: the alert is firing. In: `for` elapsed, an alert was pushed
	// over the API, or a silence that suppressed it ended. Out: acknowledged by
	// an operator, suppressed by a matching silence, resolved when the
	// condition clears (after any hold time), by hand, or when a pushed alert's
	// end time passes.
	StateActive State = "active"

	// StateAcknowledged: an operator took the alert (who, when, comment are
	// kept). Escalation and renotification stop. Out: resolved (by evaluation,
	// by hand or by end time). A silence does not move an acknowledged alert.
	StateAcknowledged State = "acknowledged"

	// StateSuppressed: the alert fires but a silence matches it, so it
	// notifies nobody. In: a silence matching an active (or newly firing)
	// alert. Out: back to active when the silence ends or is expired; to
	// resolved when the condition clears (recorded, and the resolution goes to
	// any channel that was told the alert fired).
	StateSuppressed State = "suppressed"

	// StateResolved: the alert is over; this is terminal. In: the condition
	// cleared, an operator resolved it, a pushed alert's end time passed, or
	// the pushed alert was posted with status resolved. An alert with the same
	// fingerprint that fires again is a new alert with a new id.
	StateResolved State = "resolved"
)

// States lists every state in lifecycle order.
var States = []State{StatePending, StateActive, StateAcknowledged, StateSuppressed, StateResolved}

// ParseState reads a state name.
func ParseState(s string) (State, error) {
	st := State(s)
	if st.Valid() {
		return st, nil
	}
	return "", fmt.Errorf("unknown state %q (want pending, active, acknowledged, suppressed or resolved)", s)
}

// Valid reports whether s is a defined state.
func (s State) Valid() bool {
	switch s {
	case StatePending, StateActive, StateAcknowledged, StateSuppressed, StateResolved:
		return true
	}
	return false
}

// Open reports whether an alert in this state is still open (not resolved).
func (s State) Open() bool { return s.Valid() && s != StateResolved }

// Firing reports whether the alert's condition is considered true and it has
// passed its `for` duration (active, acknowledged or suppressed).
func (s State) Firing() bool {
	return s == StateActive || s == StateAcknowledged || s == StateSuppressed
}

// String returns the state's name.
func (s State) String() string { return string(s) }

// UnmarshalJSON decodes and validates a state name. The empty string is
// accepted as "no state" (the previous state of a first transition).
func (s *State) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("state must be a string: %w", err)
	}
	if str == "" {
		*s = ""
		return nil
	}
	v, err := ParseState(str)
	if err != nil {
		return err
	}
	*s = v
	return nil
}
