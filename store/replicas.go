package store

import (
	"context"
	"errors"
	"time"
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

// ChannelReport is one replica's view of one channel's health.
type ChannelReport struct {
	Replica string
	Channel string
	// Type is the channel's type ("webhook", "slack", ...).
	Type    string
	Healthy bool
	// Circuit is "closed", "half-open" or "open".
	Circuit string
	// LastError is the channel's last error, as GET /api/v1/channels shows
	// it (no secrets).
	LastError string
	// Age is how long ago the replica reported, by the database's clock; it
	// is set by reads and ignored by writes.
	Age time.Duration
}

// HealthBoard is implemented by stores several replicas share: every replica
// reports its view of its channels, and the leader reads the others'
// reports, so a channel that fails only on a follower (a network path of its
// own) still raises the self-alert. Report times are the database's, so no
// two replicas' clocks are ever compared.
type HealthBoard interface {
	// ReportChannels replaces every report of replica with reports.
	ReportChannels(ctx context.Context, replica string, reports []ChannelReport) error
	// ChannelReports returns every replica's reports younger than within,
	// ordered by channel, then replica.
	ChannelReports(ctx context.Context, within time.Duration) ([]ChannelReport, error)
}
