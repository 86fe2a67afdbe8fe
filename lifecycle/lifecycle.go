// Package lifecycle keeps the state of every alert: it turns rule
// evaluations, pushed alerts and operator actions into transitions (pending,
// active, acknowledged, suppressed, resolved), applies silences, renotifies
// and escalates unacknowledged alerts, and writes each transition together
// with the notification records it causes in one store transaction
// (invariant 1). It never sends anything itself: the notify dispatcher
// consumes the records.
//
// The Manager keeps the open alerts in memory (loaded from the store at
// start) so evaluation does not read the database; every change is written
// to the store before memory is updated, so a failed write leaves both as
// they were.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// Errors returned by Manager methods.
var (
	// ErrNotFound: no alert has that id or fingerprint.
	ErrNotFound = store.ErrNotFound
	// ErrInvalidTransition: the alert's state does not allow the action
	// (acknowledging a resolved alert, say).
	ErrInvalidTransition = errors.New("invalid transition")
)

// Options configure a Manager. Store is required.
type Options struct {
	Store store.Store
	// Routes decide the channels of each alert. Empty: nobody is notified.
	Routes []*Route
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default discards.
	Logger *slog.Logger
	// Owner names this process in notification leases; default a random id.
	Owner string
	// LeaseFor is how long freshly written notifications stay leased to
	// this process so it can send them without a claim; default 1m.
	LeaseFor time.Duration
	// OnEnqueue receives the notification records of every committed
	// change, already leased to Owner, so the dispatcher sends them at once
	// (invariant 4). It must not block.
	OnEnqueue func([]*store.Notification)
	// Render, when set, fills an alert's summary and description (from rule
	// templates) before each transition is written.
	Render func(a *alert.Alert)
	// Excluded, when set, names channels an alert never notifies, whatever
	// its routes, failover chains and escalation steps say: the engine's
	// alert about a failing channel leaves that channel out.
	Excluded func(a *alert.Alert, channel string) bool
	// ResolveTimeout resolves a pushed alert without an end time this long
	// after it was last posted; default 5m.
	ResolveTimeout time.Duration
	// HistoryRetention and HistoryKeep bound resolved alerts kept in the
	// store; defaults 168h and 10000.
	HistoryRetention time.Duration
	HistoryKeep      int
	// Follower starts the manager as a follower of a replica set: it loads
	// nothing and writes nothing (store.ErrNotLeader) until Lead.
	Follower bool
}

func (o *Options) validate() error {
	if o.Store == nil {
		return errors.New("lifecycle: Options.Store is required")
	}
	return nil
}

// Manager owns alert state. It is safe for concurrent use.
type Manager struct {
	store          store.Store
	now            func() time.Time
	log            *slog.Logger
	owner          string
	leaseFor       time.Duration
	enqueue        func([]*store.Notification)
	render         func(*alert.Alert)
	excluded       func(*alert.Alert, string) bool
	resolveTimeout time.Duration
	retention      time.Duration
	keep           int

	// mu serialises every change so memory and store agree.
	mu sync.Mutex
	// follower: another replica leads, so this one writes nothing; guarded
	// by mu.
	follower bool
	// routes may be replaced on reload; guarded by mu. routesGen counts
	// the replacements: a packed entry's cached due time holds for the
	// routes of its generation (tick.go).
	routes    []*Route
	routesGen uint64
	// open holds every open alert by fingerprint; guarded by mu.
	open map[alert.Fingerprint]*entry
	// byID indexes open by alert id; guarded by mu.
	byID map[string]*entry
	// silences holds silences not yet expired; guarded by mu.
	silences []*store.Silence
	// groupDue remembers each group's latest notification time: when the
	// held ones go out, or went (groupSend).
	groupDue map[string]time.Time
	// scanDue is when Tick must next look at every open alert (an end
	// time, an escalation step, a renotification); zero means "at the next
	// Tick". A commit brings it forward to the timers of the alerts it
	// changed (batch.due). Guarded by mu.
	scanDue time.Time
	// silenceDue is the next time a silence starts or ends; zero means
	// none. Guarded by mu.
	silenceDue time.Time
	// stale is set when a write failed and the reload after it failed too:
	// the next change reloads first (resync).
	stale bool
	// warnedSame remembers the fingerprints two series of one cycle shared,
	// warned about once (onePerSeries).
	warnedSame map[alert.Fingerprint]bool

	// pushMu guards pushQ, the posts waiting for the next group commit.
	pushMu sync.Mutex
	pushQ  []*pushReq
	// leading holds a token while a caller leads group commits (ops.go):
	// a caller waits for it or for its own post's commit, whichever comes
	// first, so a committed caller never waits behind another's groups.
	leading chan struct{}
}

// entry is an open alert plus what evaluation needs about it. A committed
// alert is never changed in place: every change works on a copy and set
// records the result.
type entry struct {
	// a is the alert; nil while it is packed (a pushed alert: pack.go).
	a      *alert.Alert
	packed string
	// id, state and seq are the alert's, readable without unpacking.
	id    string
	state alert.State
	seq   int64
	// explicit channels of the rule that made it (bypassing routes).
	explicit []string
	// due is when a packed alert's earliest timer falls due (noTimer when
	// none), as Tick last worked it out under the routes of generation
	// dueGen; 0 means not worked out since the alert last changed. Tick
	// skips unpacking an alert that is not due.
	due    time.Time
	dueGen uint64
}

// noTimer is the due time of an alert without timers.
var noTimer = time.Unix(1<<62, 0)

// newEntry holds a with its explicit channels.
func newEntry(a *alert.Alert, explicit []string) *entry {
	e := &entry{explicit: explicit}
	e.set(a)
	return e
}

// set records a as the entry's alert, packing a pushed one. A packed
// entry's id is a slice of its packing, so the alert's own strings can go.
func (e *entry) set(a *alert.Alert) {
	e.state, e.seq = a.State, a.Sequence
	e.dueGen = 0
	if a.Source == "api" {
		e.a, e.packed = nil, packAlert(a)
		e.id, _ = packedKeys(e.packed)
		return
	}
	e.a, e.packed, e.id = a, "", a.ID
}

// index files e in the open and byID maps. A packed entry's keys are slices
// of its packing; assigning to a string key replaces the stored key too, so
// an earlier key (a slice of an earlier packing) does not keep that packing
// alive (TestManager_PushedAlertIsPackedAndSharedWithItsRecords checks).
// Must hold mu.
func (m *Manager) index(e *entry, fp alert.Fingerprint) {
	if e.packed != "" {
		_, fp = packedKeys(e.packed)
	}
	m.open[fp] = e
	m.byID[e.id] = e
}

// held says whether the entry holds an alert yet (a new one does not until
// its first transition commits).
func (e *entry) held() bool { return e.a != nil || e.packed != "" }

// alert returns the entry's alert for reading: the held one, or a fresh
// copy unpacked. Never change it; copy returns one to change.
func (e *entry) alert() *alert.Alert {
	if e.a != nil {
		return e.a
	}
	a, err := unpackAlert(e.packed)
	if err != nil {
		panic(err) // packAlert wrote these bytes in this process
	}
	return a
}

// copy returns a copy of the entry's alert that the caller may change.
func (e *entry) copy() *alert.Alert {
	if e.a != nil {
		return e.a.Clone()
	}
	return e.alert()
}

// New builds a Manager and loads open alerts and silences from the store
// (a follower's are loaded by Lead).
func New(ctx context.Context, o Options) (*Manager, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	m := &Manager{
		leading:        make(chan struct{}, 1),
		store:          o.Store,
		now:            o.Now,
		log:            o.Logger,
		owner:          o.Owner,
		leaseFor:       o.LeaseFor,
		enqueue:        o.OnEnqueue,
		render:         o.Render,
		excluded:       o.Excluded,
		resolveTimeout: o.ResolveTimeout,
		retention:      o.HistoryRetention,
		keep:           o.HistoryKeep,
		routes:         o.Routes,
		routesGen:      1,
		open:           map[alert.Fingerprint]*entry{},
		byID:           map[string]*entry{},
		groupDue:       map[string]time.Time{},
		follower:       o.Follower,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.owner == "" {
		m.owner = "klaxon-" + uuid.NewString()[:8]
	}
	if m.leaseFor <= 0 {
		m.leaseFor = time.Minute
	}
	if m.resolveTimeout <= 0 {
		m.resolveTimeout = 5 * time.Minute
	}
	if m.retention <= 0 {
		m.retention = 168 * time.Hour
	}
	if m.keep <= 0 {
		m.keep = 10000
	}
	// A follower holds nothing: its view would be stale, and Lead loads
	// the current one.
	if !m.follower {
		if err := m.load(ctx); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Lead makes a follower the writer of a replica set: it reloads the open
// alerts and silences from the store (the previous leader changed them) and
// accepts changes from then on.
func (m *Manager) Lead(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.open, m.byID = map[alert.Fingerprint]*entry{}, map[string]*entry{}
	m.groupDue, m.scanDue = map[string]time.Time{}, time.Time{}
	if err := m.load(ctx); err != nil {
		return err
	}
	m.follower = false
	return nil
}

// Follow stops a leader writing: another replica leads (or may, now that
// this one lost the lead). Changes fail with store.ErrNotLeader until Lead,
// which loads the open alerts afresh.
func (m *Manager) Follow() {
	m.mu.Lock()
	m.follower = true
	m.mu.Unlock()
}

// writable is nil when the manager may change alerts; must hold mu.
func (m *Manager) writable() error {
	if m.follower {
		return store.ErrNotLeader
	}
	return nil
}

// errResynced fails a change built before the open alerts were reloaded.
var errResynced = errors.New("the open alerts were reloaded after a failed write; try again")

// resync reloads the open alerts and silences from the store, keeping the
// current view when that fails. Must hold mu.
func (m *Manager) resync(ctx context.Context) error {
	open, byID := m.open, m.byID
	m.open, m.byID = map[alert.Fingerprint]*entry{}, map[string]*entry{}
	if err := m.load(ctx); err != nil {
		m.open, m.byID = open, byID
		return err
	}
	for fp, e := range m.open {
		if old := open[fp]; old != nil && old.id == e.id {
			e.explicit = old.explicit
		}
	}
	m.stale, m.scanDue = false, time.Time{}
	return nil
}

func (m *Manager) load(ctx context.Context) error {
	open, err := m.store.AlertList(ctx, &store.AlertListParams{States: []alert.State{
		alert.StatePending, alert.StateActive, alert.StateAcknowledged, alert.StateSuppressed,
	}})
	if err != nil {
		return fmt.Errorf("load open alerts: %w", err)
	}
	for _, a := range open {
		e := newEntry(a, nil)
		m.index(e, a.Fingerprint)
	}
	sils, err := m.store.SilenceList(ctx, &store.SilenceListParams{Now: m.now()})
	if err != nil {
		return fmt.Errorf("load silences: %w", err)
	}
	m.silences = sils
	// Silences may have started or ended while no process led: the first
	// Tick reconciles every open alert with them.
	m.silenceDue = m.now()
	return nil
}

// SetRoutes replaces the routing table (configuration reload).
func (m *Manager) SetRoutes(routes []*Route) {
	m.mu.Lock()
	m.routes = routes
	m.routesGen++
	m.scanDue = time.Time{}
	m.mu.Unlock()
}

// Owner returns the lease owner name used for fresh notifications.
func (m *Manager) Owner() string { return m.owner }

// Open returns copies of the open alerts, most severe first then oldest.
func (m *Manager) Open() []*alert.Alert {
	m.mu.Lock()
	out := make([]*alert.Alert, 0, len(m.open))
	for _, e := range m.open {
		out = append(out, e.copy())
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(x, y *alert.Alert) int {
		if x.Severity != y.Severity {
			return int(y.Severity - x.Severity)
		}
		return x.StartedAt.Compare(y.StartedAt)
	})
	return out
}

// OpenCount returns the number of open alerts per state.
func (m *Manager) OpenCount() map[alert.State]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[alert.State]int{}
	for _, e := range m.open {
		out[e.state]++
	}
	return out
}

// batch accumulates changes to commit in one transaction. Memory updates
// run only after the commit succeeds.
type batch struct {
	changes []store.Change
	after   []func()
	// due is the earliest timer (end time, escalation, repeat) of the
	// alerts the batch changes; zero when none.
	due time.Time
}

// dueAt notes a changed alert's timer.
func (b *batch) dueAt(t time.Time) {
	if !t.IsZero() && (b.due.IsZero() || t.Before(b.due)) {
		b.due = t
	}
}

func (b *batch) add(c store.Change, after func()) {
	b.changes = append(b.changes, c)
	if after != nil {
		b.after = append(b.after, after)
	}
}

// commit writes the batch; must hold mu.
func (m *Manager) commit(ctx context.Context, b *batch) error {
	if len(b.changes) == 0 {
		return nil
	}
	if err := m.writable(); err != nil {
		return err
	}
	if m.stale {
		// An earlier write failed and memory could not be checked against
		// the store then: this batch was built on a view that may be wrong.
		if err := m.resync(ctx); err != nil {
			return fmt.Errorf("reload the open alerts after a failed write: %w", err)
		}
		return errResynced
	}
	recs, err := m.store.Apply(ctx, &store.ApplyParams{Changes: b.changes})
	if err != nil {
		// The write may have committed although it failed (a connection
		// lost during COMMIT): memory and store must agree again before
		// the next change, or every later write would break a constraint.
		if !errors.Is(err, store.ErrNotLeader) && m.resync(ctx) != nil {
			m.stale = true
		}
		return fmt.Errorf("apply %d changes: %w", len(b.changes), err)
	}
	for _, f := range b.after {
		f()
	}
	// The next full scan comes forward to the changed alerts' timers;
	// Tick need not look at every open alert because something changed.
	if !m.scanDue.IsZero() && !b.due.IsZero() && b.due.Before(m.scanDue) {
		m.scanDue = b.due
	}
	if m.enqueue != nil && len(recs) > 0 {
		// Records handed over carry their decoded event; the JSON copy is
		// in the store, and memory holds one form only.
		for _, r := range recs {
			if r.Decoded != nil {
				r.Payload = nil
			}
			if h, ok := r.Decoded.(*heldEvent); ok && h.packed != "" {
				// Their names share the packing too, so the alert's own
				// id and fingerprint strings can go.
				r.AlertID, r.Fingerprint = packedKeys(h.packed)
			}
		}
		m.enqueue(recs)
	}
	return nil
}

func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
