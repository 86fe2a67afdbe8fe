package store

import (
	"context"
	"errors"
)

// ErrNotLeader is returned by a write that only the leading replica may make
// (an alert change, a silence) when this replica does not lead.
var ErrNotLeader = errors.New("this replica is not the leader")

// Replica names one klaxon process of a set sharing a store.
type Replica struct {
	// ID is unique per process (the dispatcher's lease owner).
	ID string
	// URL is where the replica's HTTP API answers, for followers that
	// forward requests to the leader; empty when it serves no API.
	URL string
}

// Leadership is implemented by stores several replicas share (PostgreSQL).
// One replica at a time leads: it runs rule evaluation and the alert
// lifecycle, which keep state in memory and must not run twice; every
// replica delivers. A store without it serves one process, which always
// leads.
type Leadership interface {
	// TryLead takes the lead for self when no replica holds it, and returns
	// nil, nil when another one does. From then on the store's alert writes
	// (Apply) are fenced with the term: once another replica has taken
	// over, they fail with ErrNotLeader instead of writing beside the new
	// leader.
	TryLead(ctx context.Context, self Replica) (Term, error)
	// Leader returns the replica that took the lead last; ErrNotFound when
	// none ever did.
	Leader(ctx context.Context) (Replica, error)
}

// Term is one replica's time as leader.
type Term interface {
	// Lost is closed when the lead is lost: the store connection that held
	// it failed, or Resign was called.
	Lost() <-chan struct{}
	// Resign gives the lead up at once (shutdown, or a failed takeover), so
	// another replica can take it without waiting.
	Resign()
}

// Waker is implemented by stores that tell every replica when records are
// queued (PostgreSQL's LISTEN/NOTIFY), so a dispatcher claims them without
// waiting for its next sweep.
type Waker interface {
	// Listen returns a channel that receives a value (wake-ups coalesce)
	// whenever a replica queues records; it is closed when ctx ends.
	Listen(ctx context.Context) <-chan struct{}
}
