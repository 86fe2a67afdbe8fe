// Package store is the seam between klaxon's engine and its database: alerts
// and their transitions, silences, the notification queue (a table-backed
// outbox) and the delivery log. store/sqlite is the embedded default and
// store/postgres serves several replicas; storetest is the conformance suite
// every backend must pass.
//
// Every method has the form (ctx, *XxxParams) (result, error) and is named
// entity then verb, so params can grow without breaking a backend. Methods are
// safe for concurrent use.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Errors returned by every backend; compare with errors.Is.
var (
	// ErrNotFound: no row has the requested id or fingerprint.
	ErrNotFound = errors.New("not found")
	// ErrNotImplemented: the backend lacks an optional capability.
	ErrNotImplemented = errors.New("not implemented by this store")
)

// Store is implemented by each backend.
type Store interface {
	// AlertGet returns one alert by id; when no alert has that id, the open
	// alert with that fingerprint, else the latest alert with it.
	AlertGet(ctx context.Context, p *AlertGetParams) (*alert.Alert, error)
	// AlertList returns alerts filtered by p, newest first.
	AlertList(ctx context.Context, p *AlertListParams) ([]*alert.Alert, error)
	// AlertCount counts alerts per state (resolved included).
	AlertCount(ctx context.Context) (map[alert.State]int, error)
	// AlertPrune deletes resolved alerts (with their transitions, deliveries
	// and finished notifications) resolved before p.Before, keeping at least
	// the newest p.Keep resolved alerts. It returns how many it deleted.
	AlertPrune(ctx context.Context, p *AlertPruneParams) (int, error)

	// Apply writes alert rows, their transitions and the notification
	// records they cause in one durable transaction (invariant 1): all or
	// nothing. It returns the inserted notifications with their ids, in order.
	Apply(ctx context.Context, p *ApplyParams) ([]*Notification, error)
	// TransitionList returns an alert's transitions in sequence order.
	TransitionList(ctx context.Context, p *TransitionListParams) ([]alert.Transition, error)

	// SilenceUpsert inserts or replaces a silence by id.
	SilenceUpsert(ctx context.Context, s *Silence) error
	// SilenceGet returns one silence.
	SilenceGet(ctx context.Context, id string) (*Silence, error)
	// SilenceList returns silences, newest first; expired ones only when
	// p.IncludeExpired (a silence is expired when EndsAt <= p.Now).
	SilenceList(ctx context.Context, p *SilenceListParams) ([]*Silence, error)

	// NotificationClaim leases up to p.Limit notifications of p.Channel (all
	// channels when empty) that are queued, due (NextAttemptAt <= p.Now) and
	// not leased (LockedUntil empty or <= p.Now), ordered by priority (higher
	// first) then id. Each claimed row gets LockedUntil = p.LeaseUntil and
	// LockedBy = p.Owner. On PostgreSQL the claim uses FOR UPDATE SKIP LOCKED.
	NotificationClaim(ctx context.Context, p *NotificationClaimParams) ([]*Notification, error)
	// NotificationExtendLease moves LockedUntil of rows still leased by
	// p.Owner to p.LeaseUntil.
	NotificationExtendLease(ctx context.Context, p *NotificationExtendLeaseParams) error
	// NotificationFinish records the outcome of sends in one transaction:
	// each result updates its row, appends its delivery log entry, stores a
	// thread handle and inserts a failover notification, as set. It returns
	// the inserted failover notifications.
	NotificationFinish(ctx context.Context, p *NotificationFinishParams) ([]*Notification, error)
	// NotificationEarlier returns the queued notification of p.AlertID on
	// p.Channel with the lowest sequence below p.Sequence and above p.Above
	// (the earliest
	// transition not yet told), or ErrNotFound. The dispatcher holds a later
	// transition's notification behind it, so a receiver hears of an alert
	// in order: never resolved before active.
	NotificationEarlier(ctx context.Context, p *NotificationEarlierParams) (*Notification, error)
	// NotificationList returns notifications filtered by p, newest first.
	NotificationList(ctx context.Context, p *NotificationListParams) ([]*Notification, error)
	// NotificationStats summarises the queue.
	NotificationStats(ctx context.Context, now time.Time) (*QueueStats, error)

	// DeliveryInsert appends entries to the delivery log (decisions not to
	// send: silenced, grouped, deduplicated, held by the rate limit).
	DeliveryInsert(ctx context.Context, p *DeliveryInsertParams) error
	// DeliveryList returns log entries filtered by p, newest first.
	DeliveryList(ctx context.Context, p *DeliveryListParams) ([]*Delivery, error)

	// ThreadGet returns the thread handle stored for an alert and channel,
	// or "" (and no error) when there is none.
	ThreadGet(ctx context.Context, p *ThreadGetParams) (string, error)

	// Close releases the database.
	Close() error
}

// AlertGetParams selects one alert by id or fingerprint (IDOrFingerprint).
type AlertGetParams struct {
	IDOrFingerprint string
}

// AlertListParams filters AlertList. Zero values do not filter.
type AlertListParams struct {
	States      []alert.State
	Severity    alert.Severity
	RuleID      string
	Fingerprint alert.Fingerprint
	// Limit caps the result; 0 means no limit.
	Limit int
}

// AlertPruneParams bounds the history of resolved alerts.
type AlertPruneParams struct {
	Before time.Time
	Keep   int
}

// ApplyParams is one atomic batch of lifecycle changes.
type ApplyParams struct {
	Changes []Change
}

// Change is one alert's new row plus what caused it.
type Change struct {
	// Alert is the full new row; it is inserted or replaced by ID.
	Alert *alert.Alert
	// Transition, when set, is appended to the alert's history. A change
	// without one updates the row only (a new end time, a new value).
	Transition *alert.Transition
	// Notifications are inserted as queued records.
	Notifications []*NotificationInsert
	// Deliveries are decision-log entries written with the change
	// (for example "silenced: not sent").
	Deliveries []*Delivery
}

// NotificationState is where a notification record is in the queue.
type NotificationState string

const (
	// NotificationQueued: waiting to be sent, or waiting for its next attempt
	// (NextAttemptAt). In: inserted by Apply or by a failover, or a retryable
	// failure. Out: claimed and finished as sent, failed or failed over.
	NotificationQueued NotificationState = "queued"
	// NotificationSent: the receiver accepted it. Terminal.
	NotificationSent NotificationState = "sent"
	// NotificationFailed: permanently failed or out of retry budget, with no
	// failover left (or it failed over: see FailedOverTo). Terminal.
	NotificationFailed NotificationState = "failed"
	// NotificationCanceled: dropped by a decision, e.g. an escalation step
	// for an alert acknowledged before it was sent. Terminal.
	NotificationCanceled NotificationState = "canceled"
)

// NotificationInsert is a new queue record.
type NotificationInsert struct {
	IdempotencyKey string
	AlertID        string
	Fingerprint    alert.Fingerprint
	Sequence       int64
	Channel        string
	// Event is a notify.Event value ("alert.active").
	Event string
	// Priority: higher is sent first (severity*10, plus 1 when firing).
	Priority int
	// Payload is the notification's content, opaque to the store (JSON).
	Payload []byte
	// Decoded, when set, is Payload already decoded by the writer. It is
	// never stored: Apply copies it to the returned record so the process
	// that wrote the record can send it without decoding its own JSON.
	Decoded  any
	GroupKey string
	// Failover lists the channels still to try, in order, if this one fails
	// permanently.
	Failover []string
	// Attempt is the first attempt's number less one (0 for a fresh record;
	// a failover record starts again at 0).
	Attempt       int
	CreatedAt     time.Time
	NextAttemptAt time.Time
	// LockedUntil and LockedBy, when set, insert the record already leased,
	// so the process that wrote it can send it without a claim round trip.
	LockedUntil time.Time
	LockedBy    string
}

// Notification is a stored queue record.
type Notification struct {
	ID             int64
	IdempotencyKey string
	AlertID        string
	Fingerprint    alert.Fingerprint
	Sequence       int64
	Channel        string
	Event          string
	Priority       int
	// Payload is nil in a record handed over in memory with Decoded set.
	Payload []byte
	// Decoded is the payload already decoded, on records Apply returned
	// from an insert that had it; nil on records read from the store.
	Decoded  any
	GroupKey string
	Failover []string
	State    NotificationState
	// Attempts counts sends made so far.
	Attempts      int
	CreatedAt     time.Time
	NextAttemptAt time.Time
	LockedUntil   time.Time // zero when not leased
	LockedBy      string
	LastError     string
	// FailedOverTo names the channel that took over, when it failed over.
	FailedOverTo string
	UpdatedAt    time.Time
}

// NotificationClaimParams selects and leases due records.
type NotificationClaimParams struct {
	// Channel, when set, takes only that channel's records.
	Channel string
	// ExceptChannels leaves out the records of these channels: a claim of
	// what channels no longer configured left queued.
	ExceptChannels []string
	// MinPriority, when above zero, takes only records at least that
	// urgent: a channel holding its fill in memory still takes what would
	// go ahead of it.
	MinPriority int
	// FailoverOnly takes only records with a failover chain: those a
	// channel whose circuit is open hands on at once.
	FailoverOnly bool
	// IDs, when set, takes only these records (if due and unleased): the
	// earlier notifications that held records wait for.
	IDs        []int64
	Limit      int
	Now        time.Time
	LeaseUntil time.Time
	Owner      string
}

// NotificationExtendLeaseParams renews leases.
type NotificationExtendLeaseParams struct {
	IDs        []int64
	Owner      string
	LeaseUntil time.Time
}

// NotificationFinishParams holds a batch of outcomes.
type NotificationFinishParams struct {
	Results []*NotificationResult
	// Owner, when set, is the lease owner the results come from. A store
	// shared by replicas (PostgreSQL) then writes a result only while its
	// record is queued and leased by Owner; a record another replica took
	// over once this lease lapsed is left alone (its log entry, thread and
	// failover too) and its result marked Skipped. SQLite has one process,
	// whose dispatcher owns every lease, and writes every result.
	Owner string
}

// NotificationResult is the outcome of one send.
type NotificationResult struct {
	ID int64
	// State is the record's new state; Queued means "retry at NextAttemptAt"
	// (the lease is released).
	State         NotificationState
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	FailedOverTo  string
	// Delivery, when set, is appended to the delivery log.
	Delivery *Delivery
	// Thread, when set, is stored as the thread handle of
	// (Delivery.AlertID or the record's alert, the record's channel).
	Thread string
	// Failover, when set, is inserted as a new queued record.
	Failover *NotificationInsert
	// Skipped is set by NotificationFinish when nothing was written because
	// the record was no longer leased by the params' Owner.
	Skipped bool
}

// NotificationEarlierParams names an alert's notification on a channel.
type NotificationEarlierParams struct {
	AlertID  string
	Channel  string
	Sequence int64
	// Above, when set, skips records at or below this sequence (ones the
	// caller knows are done).
	Above int64
}

// NotificationListParams filters NotificationList. Zero values do not filter.
type NotificationListParams struct {
	AlertID string
	Channel string
	States  []NotificationState
	Limit   int
}

// QueueStats summarises the queue.
type QueueStats struct {
	// Queued counts records not finished, leased or not.
	Queued int
	// PerChannel counts unfinished records per channel.
	PerChannel map[string]int
	// NextDue is the earliest NextAttemptAt (or lease expiry) of a record
	// that is not claimable now; zero when none.
	NextDue time.Time
}

// Outcome is what a delivery log entry records.
type Outcome string

// Delivery outcomes: attempts and decisions.
const (
	OutcomeSent         Outcome = "sent"         // the receiver accepted it
	OutcomeRetry        Outcome = "retry"        // failed, will retry at NextAttemptAt
	OutcomeFailed       Outcome = "failed"       // failed permanently or out of budget, nothing left to try
	OutcomeFailedOver   Outcome = "failed_over"  // failed; handed to the next failover channel
	OutcomeSilenced     Outcome = "silenced"     // not sent: a silence suppresses the alert
	OutcomeDeduplicated Outcome = "deduplicated" // not sent: the same notification was already sent
	OutcomeGrouped      Outcome = "grouped"      // not sent alone: carried by another notification
	OutcomeRateLimited  Outcome = "rate_limited" // held by the channel's rate limit, then sent
	OutcomeEscalated    Outcome = "escalated"    // an escalation step notified more channels
	OutcomeCanceled     Outcome = "canceled"     // dropped, e.g. escalation after acknowledgement
	OutcomeCircuitOpen  Outcome = "circuit_open" // not tried: the channel's circuit is open
	OutcomeHeld         Outcome = "held"         // not sent yet: an earlier transition's notification is still queued
)

// Delivery is one delivery log entry: an attempt or a decision.
type Delivery struct {
	ID             int64
	NotificationID int64 // 0 for decisions without a record
	AlertID        string
	Fingerprint    alert.Fingerprint
	Channel        string
	Event          string
	Attempt        int
	At             time.Time
	Outcome        Outcome
	// Reason is a notify.Reason value for failures, or a short decision reason.
	Reason     string
	StatusCode int
	// Latency is the send's duration (0 for decisions).
	Latency time.Duration
	// Error is the failure, secret-free.
	Error string
	// Detail is the receiver's answer or the decision's explanation.
	Detail string
}

// DeliveryInsertParams appends log entries.
type DeliveryInsertParams struct {
	Deliveries []*Delivery
}

// DeliveryListParams filters DeliveryList. AlertID matches the alert id or
// its fingerprint. Zero values do not filter; Limit 0 means 1000.
type DeliveryListParams struct {
	AlertID string
	Channel string
	Limit   int
}

// ThreadGetParams names a thread handle.
type ThreadGetParams struct {
	AlertID string
	Channel string
}

// Silence mutes matching alerts between StartsAt and EndsAt.
type Silence struct {
	ID        string         `json:"id"`
	Matchers  alert.Matchers `json:"matchers"`
	StartsAt  time.Time      `json:"starts_at"`
	EndsAt    time.Time      `json:"ends_at"`
	CreatedBy string         `json:"created_by"`
	Comment   string         `json:"comment"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// Active reports whether the silence is in force at now.
func (s *Silence) Active(now time.Time) bool {
	return !now.Before(s.StartsAt) && now.Before(s.EndsAt)
}

// SilenceListParams filters SilenceList.
type SilenceListParams struct {
	IncludeExpired bool
	Now            time.Time
}

// TransitionListParams selects one alert's history.
type TransitionListParams struct {
	AlertID string
}
