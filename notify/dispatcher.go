package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// ChannelConfig is one channel as the dispatcher runs it.
type ChannelConfig struct {
	Name    string
	Channel Channel
	// Type is the channel's type name for the API ("webhook").
	Type  string
	Retry RetryPolicy
	// RateLimit is the token bucket's rate in notifications per second;
	// 0 takes the channel's own default (RateLimited), else unlimited.
	RateLimit float64
	// Burst is the bucket size; default 1 when limited.
	Burst int
	// Concurrency is how many sends of this channel run at once; 0 takes
	// the channel's own default (Concurrent), else 8, and 1 when the rate
	// limit is below 2 per second.
	Concurrency int
	// Disabled channels are skipped: their notifications fail over or fail.
	Disabled bool
	// BreakerFailures and BreakerOpenFor override the dispatcher's circuit
	// breaker defaults for this channel; zero keeps them.
	BreakerFailures int
	BreakerOpenFor  time.Duration
	// MaxHeld overrides DispatcherOptions.MaxHeld for this channel; zero
	// keeps it.
	MaxHeld int
}

// DispatcherOptions configure a Dispatcher. Store is required.
type DispatcherOptions struct {
	Store    store.Store
	Channels []ChannelConfig
	// Owner names this process in leases; it must equal the lifecycle's
	// owner so pre-leased records are recognised. Default a random id.
	Owner string
	// LeaseFor is the lease taken on claimed records, renewed while they
	// wait in memory; default 1m. A crashed process's records become
	// claimable again when it expires.
	LeaseFor time.Duration
	// SweepInterval bounds how long a due retry or an expired lease waits
	// to be noticed; default 1s. It is never on the first-send path.
	SweepInterval time.Duration
	// DrainTimeout is how long Run lets in-flight sends finish after its
	// context ends; default 5s. What is left stays queued durably.
	DrainTimeout time.Duration
	// Breaker sets when a channel's circuit opens (this many consecutive
	// failures, default 10, or at least half of 20 or more attempts within a
	// minute) and how long it stays open before a trial (default 10s).
	BreakerFailures uint32
	BreakerTimeout  time.Duration
	// MaxHeld bounds the records each channel holds in memory, queued or
	// in flight (default DefaultMaxHeld); up to twice as many when the
	// extra ones are more urgent than the least urgent held. The rest
	// wait in the store and are claimed in priority order as room frees.
	MaxHeld int
	// ExternalURL returns the dashboard link of an alert, or "".
	ExternalURL func(a *alert.Alert) string
	// OnHealth is called (from a dispatcher goroutine, must not block) when
	// a channel turns unhealthy (circuit open, endpoint gone, budget
	// exhausted) or healthy again; the engine raises a self-alert.
	OnHealth func(h ChannelHealth)
	Now      func() time.Time
	Logger   *slog.Logger
	Metrics  *Metrics
}

// Dispatcher sends queued notifications. Build it with NewDispatcher, start
// it with Run, and feed it freshly committed records with Enqueue.
type Dispatcher struct {
	st       store.Store
	owner    string
	leaseFor time.Duration
	sweepInt time.Duration
	drain    time.Duration
	now      func() time.Time
	log      *slog.Logger
	metrics  *Metrics
	extURL   func(a *alert.Alert) string
	onHealth func(h ChannelHealth)

	workers map[string]*worker
	results chan *result
	sweepC  chan struct{}

	// draining is set once Run's context ends: outcome writes then get a
	// short budget, so a hung database cannot hold shutdown up for long.
	// stopped is set when Run returns: timers still pending then do nothing.
	draining, stopped atomic.Bool

	// mu guards nextSweep and refused (records a full channel handed
	// back, whose leases the next sweep ends).
	mu        sync.Mutex
	nextSweep time.Time
	refused   []int64
}

// NewDispatcher validates the options and builds a Dispatcher.
func NewDispatcher(o DispatcherOptions) (*Dispatcher, error) {
	if o.Store == nil {
		return nil, errors.New("notify: DispatcherOptions.Store is required")
	}
	d := &Dispatcher{
		st:       o.Store,
		owner:    cmp.Or(o.Owner, "klaxon-"+uuid.NewString()[:8]),
		leaseFor: cmp.Or(o.LeaseFor, time.Minute),
		sweepInt: cmp.Or(o.SweepInterval, time.Second),
		drain:    cmp.Or(o.DrainTimeout, 5*time.Second),
		now:      o.Now,
		log:      o.Logger,
		metrics:  o.Metrics,
		extURL:   o.ExternalURL,
		onHealth: o.OnHealth,
		workers:  map[string]*worker{},
		results:  make(chan *result, 1024),
		sweepC:   make(chan struct{}, 1),
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	for _, c := range o.Channels {
		if c.Name == "" || c.Channel == nil {
			return nil, fmt.Errorf("notify: channel %q has no name or implementation", c.Name)
		}
		if _, dup := d.workers[c.Name]; dup {
			return nil, fmt.Errorf("notify: channel %q configured twice", c.Name)
		}
		failures := cmp.Or(uint32(max(c.BreakerFailures, 0)), o.BreakerFailures, 10)
		d.workers[c.Name] = newWorker(d, c, failures, cmp.Or(c.BreakerOpenFor, o.BreakerTimeout, 10*time.Second),
			cmp.Or(max(c.MaxHeld, 0), max(o.MaxHeld, 0), DefaultMaxHeld))
	}
	return d, nil
}

// Owner returns the lease owner name.
func (d *Dispatcher) Owner() string { return d.owner }

// Enqueue hands freshly committed records (leased to this dispatcher's
// owner) to their channels' workers at once. Records for later (grouped)
// or for unknown channels are left to the sweep. It never blocks.
func (d *Dispatcher) Enqueue(recs []*store.Notification) {
	now := d.now()
	byWorker := map[*worker][]*store.Notification{}
	var unknown []*store.Notification
	for _, r := range recs {
		w := d.workers[r.Channel]
		if w == nil && r.LockedBy == d.owner {
			// Its lease ends at the next sweep, which fails it (or fails
			// it over) at once instead of when the lease runs out.
			unknown = append(unknown, r)
			continue
		}
		if w == nil || r.LockedBy != d.owner || r.NextAttemptAt.After(now) {
			d.kickSweep(r.NextAttemptAt)
			continue
		}
		byWorker[w] = append(byWorker[w], r)
	}
	for w, rs := range byWorker {
		w.push(true, rs...)
	}
	d.refuse(unknown)
}

// kickSweep makes the sweeper run at t (or sooner).
func (d *Dispatcher) kickSweep(t time.Time) {
	d.mu.Lock()
	if d.nextSweep.IsZero() || t.Before(d.nextSweep) {
		d.nextSweep = t
		select {
		case d.sweepC <- struct{}{}:
		default:
		}
	}
	d.mu.Unlock()
}

// leaseReleaser is implemented by single-process stores (SQLite): at start
// every lease held by another owner is stale and is released so a restart
// sends what a crash left in flight at once.
type leaseReleaser interface {
	NotificationReleaseLeases(ctx context.Context, exceptOwner string) (int, error)
}

// Run sends notifications until ctx ends, then lets in-flight sends finish
// for DrainTimeout and returns. Records not sent stay queued in the store.
func (d *Dispatcher) Run(ctx context.Context) error {
	if lr, ok := d.st.(leaseReleaser); ok {
		// A failure here must not stop delivery: the stale leases then
		// end on their own and the sweep claims their records.
		if n, err := lr.NotificationReleaseLeases(ctx, d.owner); err != nil {
			d.log.Warn("release stale notification leases at start; they end on their own", "err", err)
		} else if n > 0 {
			d.log.Info("released stale notification leases", "count", n)
		}
	}
	// Sends outlive ctx by DrainTimeout so shutdown does not cut a request
	// in half; sendCtx ends then.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()

	var workersWG, finisherWG sync.WaitGroup
	finisherWG.Go(func() { d.finisher() })
	for _, w := range d.workers {
		for range w.concurrency {
			workersWG.Go(func() { w.loop(ctx, sendCtx) })
		}
	}
	var loopsWG sync.WaitGroup
	loopsWG.Go(func() { d.sweeper(ctx) })
	loopsWG.Go(func() { d.renewer(ctx) })
	if w, ok := d.st.(store.Waker); ok {
		// Another replica queued records (a retry it gave up its lease
		// on, a failover, records of a replica that stopped): claim them
		// now rather than at the next sweep.
		loopsWG.Go(func() {
			for range w.Listen(ctx) {
				d.kickSweep(d.now())
			}
		})
	}

	<-ctx.Done()
	d.draining.Store(true)
	loopsWG.Wait()
	done := make(chan struct{})
	go func() { workersWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d.drain):
		cancelSends()
		<-done
	}
	close(d.results)
	finisherWG.Wait()
	d.stopped.Store(true)
	d.releaseHeld()
	return nil
}

// releaseHeld ends the leases of the records still waiting in memory (never
// attempted: every attempt's outcome is recorded by now), so another
// replica, or this process's next start, sends them without waiting for the
// leases to run out.
func (d *Dispatcher) releaseHeld() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.setLeases(ctx, time.Time{}); err != nil {
		d.log.Warn("release notification leases at shutdown; they end on their own", "err", err)
	}
	// And those of records refused while draining, after the last sweep.
	d.releaseRefused(ctx)
}

// sweeper claims due records: scheduled retries, grouped notifications
// whose wait ended, expired leases of crashed processes.
func (d *Dispatcher) sweeper(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-d.sweepC:
		}
		d.mu.Lock()
		d.nextSweep = time.Time{}
		d.mu.Unlock()
		next := d.sweep(ctx)
		wait := d.sweepInt
		if !next.IsZero() {
			if w := next.Sub(d.now()); w < wait {
				wait = max(w, time.Millisecond)
			}
		}
		d.mu.Lock()
		if !d.nextSweep.IsZero() {
			if w := d.nextSweep.Sub(d.now()); w < wait {
				wait = max(w, 0)
			}
		}
		d.mu.Unlock()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// sweep claims what is due and returns when the next record falls due.
// While every channel has room, one claim serves them all; once one holds
// its fill, each channel claims within its room (room.go) and a last claim
// takes the records of channels no longer configured.
func (d *Dispatcher) sweep(ctx context.Context) time.Time {
	const batch = 256
	d.releaseRefused(ctx)
	for {
		var plan []claim
		var planned []*worker
		everyRoomy := true
		for _, w := range d.workers {
			cs, roomy := w.claims(batch)
			everyRoomy = everyRoomy && roomy
			if roomy {
				cs = []claim{{store.NotificationClaimParams{Channel: w.cfg.Name, Limit: batch}, true}}
			}
			for range cs {
				planned = append(planned, w)
			}
			plan = append(plan, cs...)
		}
		if everyRoomy {
			plan, planned = []claim{{store.NotificationClaimParams{Limit: batch}, true}}, nil
		} else {
			plan = append(plan, claim{store.NotificationClaimParams{ExceptChannels: slices.Collect(maps.Keys(d.workers)), Limit: batch}, true})
		}
		more := false
		for i, c := range plan {
			now := d.now()
			p := c.p
			p.Now, p.LeaseUntil, p.Owner = now, now.Add(d.leaseFor), d.owner
			recs, err := d.st.NotificationClaim(ctx, &p)
			if err != nil {
				if ctx.Err() == nil {
					d.log.Error("claim notifications", "err", err)
				}
				return time.Time{}
			}
			more = more || (c.more && len(recs) == p.Limit)
			if i < len(planned) {
				d.refuse(planned[i].push(false, recs...))
				continue
			}
			d.distribute(recs, now)
		}
		if !more {
			break
		}
	}
	d.releaseRefused(ctx)
	stats, err := d.st.NotificationStats(ctx, d.now())
	if err != nil {
		return time.Time{}
	}
	d.metrics.setQueueDepth(stats.Queued)
	for name, w := range d.workers {
		w.mu.Lock()
		w.health.Queued = stats.PerChannel[name]
		w.mu.Unlock()
	}
	return stats.NextDue
}

// distribute hands claimed records to their workers, and fails (or fails
// over) those of channels no longer configured.
func (d *Dispatcher) distribute(recs []*store.Notification, now time.Time) {
	byWorker := map[*worker][]*store.Notification{}
	for _, r := range recs {
		if w := d.workers[r.Channel]; w != nil {
			byWorker[w] = append(byWorker[w], r)
			continue
		}
		d.results <- d.unknownChannel(r, now)
	}
	for w, rs := range byWorker {
		d.refuse(w.push(false, rs...))
	}
}

// renewer extends the leases of records waiting in memory.
func (d *Dispatcher) renewer(ctx context.Context) {
	t := time.NewTicker(d.leaseFor / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := d.setLeases(ctx, d.now().Add(d.leaseFor)); err != nil && ctx.Err() == nil {
			d.log.Error("extend notification leases", "err", err)
		}
	}
}

// setLeases moves the leases of the records held in memory to until (the
// zero time ends them).
func (d *Dispatcher) setLeases(ctx context.Context, until time.Time) error {
	var ids []int64
	for _, w := range d.workers {
		ids = append(ids, w.heldIDs()...)
	}
	return d.leaseIDs(ctx, ids, until)
}

// leaseIDs moves the leases of ids, still this dispatcher's, to until.
func (d *Dispatcher) leaseIDs(ctx context.Context, ids []int64, until time.Time) error {
	// Chunks keep each statement under the database's parameter limit; a
	// failed chunk does not stop the others.
	var errs []error
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		err := d.st.NotificationExtendLease(ctx, &store.NotificationExtendLeaseParams{
			IDs: ids[:n], Owner: d.owner, LeaseUntil: until,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%d records: %w", n, err))
		}
		ids = ids[n:]
	}
	return errors.Join(errs...)
}

// unknownChannel fails (or fails over) a record whose channel is not
// configured any more.
func (d *Dispatcher) unknownChannel(r *store.Notification, now time.Time) *result {
	err := Permanent(fmt.Errorf("channel %q is not configured", r.Channel))
	return d.failure(r, err, now, 0, 0, "", false)
}
