package notify

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"

	"github.com/klaxonhq/klaxon/store"
)

// worker sends one channel's notifications: its own queue, rate limit,
// circuit breaker and goroutines, so a slow channel never delays another
// (invariant 4).
type worker struct {
	d     *Dispatcher
	cfg   ChannelConfig
	retry RetryPolicy
	// timedOut is the cause of an attempt that outlives retry.Timeout.
	timedOut    error
	limiter     *rate.Limiter
	breaker     *gobreaker.TwoStepCircuitBreaker[struct{}]
	concurrency int

	// mu guards the queue, the held set, the wake channel and health.
	mu    sync.Mutex
	queue recHeap
	// held maps each record held (queued or in flight) to its priority;
	// heldPrio counts them per priority. maxHeld bounds them (room.go),
	// and overflowed is set when records were left in the store for want
	// of room.
	held       map[int64]int
	heldPrio   map[int]int
	maxHeld    int
	overflowed bool
	// reclaimed holds the copy a claim returned for a record still held
	// (its outcome not yet written): the finisher decides after the write
	// whether it is the next attempt (reclaimedAfter).
	reclaimed map[int64]*store.Notification
	// threads remembers the thread handles of recent sends by alert id
	// until the store has them: a quick acknowledgement must update the
	// first Slack message even if its outcome is still being written.
	threads map[string]string
	// busy counts the in-flight sends per alert id.
	busy map[string]int
	// sentUnwritten marks held records whose send succeeded and whose
	// outcome is being written; heldBehind counts the looks of records
	// waiting behind an earlier notification (order.go). Both end with
	// release.
	sentUnwritten map[int64]bool
	heldBehind    map[int64]int
	// awaited counts, per earlier notification, the held records waiting
	// for it (order.go); waiting counts those records.
	awaited map[int64]int
	waiting int
	wake    chan struct{}
	health  ChannelHealth
	healthy bool
}

// defaultConcurrency is how many sends of a channel run at once unless the
// channel (Concurrent) or its configuration says otherwise.
const defaultConcurrency = 8

func newWorker(d *Dispatcher, c ChannelConfig, failures uint32, openFor time.Duration, maxHeld int) *worker {
	w := &worker{
		d: d, cfg: c, retry: c.Retry.WithDefaults(), maxHeld: maxHeld,
		held: map[int64]int{}, heldPrio: map[int]int{}, awaited: map[int64]int{}, reclaimed: map[int64]*store.Notification{}, threads: map[string]string{}, busy: map[string]int{},
		sentUnwritten: map[int64]bool{}, heldBehind: map[int64]int{}, wake: make(chan struct{}, 1), healthy: true,
	}
	w.timedOut = fmt.Errorf("attempt timed out after %s", w.retry.Timeout)
	perSec, burst := c.RateLimit, c.Burst
	if perSec == 0 {
		if rl, ok := c.Channel.(RateLimited); ok {
			perSec, burst = rl.DefaultRateLimit()
		}
	}
	if perSec > 0 {
		w.limiter = rate.NewLimiter(rate.Limit(perSec), max(burst, 1))
	}
	w.concurrency = c.Concurrency
	if w.concurrency <= 0 {
		w.concurrency = defaultConcurrency
		if cc, ok := c.Channel.(Concurrent); ok && cc.DefaultConcurrency() > 0 {
			w.concurrency = cc.DefaultConcurrency()
		}
		if perSec > 0 && perSec < 2 {
			w.concurrency = 1
		}
	}
	w.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name: c.Name,
		// One trial call in half-open; its success closes the circuit.
		MaxRequests: 1,
		// Counts in the closed state restart every minute.
		Interval: time.Minute,
		Timeout:  openFor,
		// Open on a run of failures (a dead endpoint) or on a failing
		// majority of a sample (a sick one). A receiver that fails a third
		// of its calls at random keeps its circuit closed: retries cope.
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= failures ||
				(c.Requests >= 20 && c.TotalFailures*2 >= c.Requests)
		},
		// A permanent error is about the notification, and a Retry-After
		// answer is the receiver pacing us: neither says the channel is
		// down, so neither counts.
		IsExcluded: func(err error) bool {
			if err == nil {
				return false
			}
			if _, ok := RetryAfterOf(err); ok {
				return true
			}
			return IsPermanent(err) && !IsGone(err)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			d.metrics.setCircuit(name, int(to))
			w.setCircuit(to)
		},
	})
	d.metrics.setCircuit(c.Name, 0)
	w.health = ChannelHealth{Name: c.Name, Type: c.Type, Circuit: "closed", Disabled: c.Disabled}
	return w
}

// push adds leased records (unless already held) and wakes a sender once
// they are all queued, so records of one group are taken together. Fresh
// records always come in; of claimed ones, it returns those it has no room
// for (room.go), still leased.
func (w *worker) push(fresh bool, recs ...*store.Notification) (refused []*store.Notification) {
	open := !fresh && w.breaker.State() == gobreaker.StateOpen // before w.mu: see claims
	w.mu.Lock()
	added := false
	for _, r := range recs {
		if _, ok := w.held[r.ID]; ok {
			// Sent, or being sent: never twice at once. Kept in case the
			// claim came after the outcome was written (a due retry).
			w.reclaimed[r.ID] = r
			continue
		}
		if !fresh && !w.admitLocked(r, open) {
			refused = append(refused, r)
			w.overflowed = true
			continue
		}
		w.holdLocked(r)
		heap.Push(&w.queue, r)
		added = true
	}
	w.health.Pending = len(w.held)
	w.mu.Unlock()
	if !added {
		return refused
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return refused
}

// signal wakes a sender without blocking.
func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) heldIDs() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]int64, 0, len(w.held))
	for id := range w.held {
		ids = append(ids, id)
	}
	return ids
}

// release forgets a record once its outcome is written (or its write
// failed), and returns the copy a claim returned meanwhile, if any.
func (w *worker) release(id int64) *store.Notification {
	open := w.breaker.State() == gobreaker.StateOpen // before w.mu: see claims
	w.mu.Lock()
	w.unholdLocked(id)
	delete(w.sentUnwritten, id)
	delete(w.heldBehind, id)
	rc := w.reclaimed[id]
	delete(w.reclaimed, id)
	w.health.Pending = len(w.held)
	freed := w.roomFreedLocked(open)
	w.mu.Unlock()
	if freed {
		w.d.kickSweep(w.d.now())
	}
	return rc
}

// maxThreads bounds the in-memory thread handles; past it they are
// dropped (the store still has them).
const maxThreads = 10000

// rememberThread keeps a send's thread handle for the alert's next
// notifications on this channel, and forgets it once the alert resolved.
func (w *worker) rememberThread(r *store.Notification, ev Event, thread string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case ev == EventResolved:
		delete(w.threads, r.AlertID)
	case thread != "":
		if len(w.threads) >= maxThreads {
			clear(w.threads)
		}
		// A clone: a record's alert id may be a slice of its alert's
		// packed bytes, which the map would keep alive after a repost.
		w.threads[strings.Clone(r.AlertID)] = thread
	}
}

// circuitPoll is how often a worker looks at an open circuit.
const circuitPoll = 200 * time.Millisecond

// requeue puts popped records (still held) back in the queue.
func (w *worker) requeue(recs []*store.Notification) {
	w.mu.Lock()
	for _, r := range recs {
		heap.Push(&w.queue, r)
	}
	w.mu.Unlock()
}

// failOverHeld fails over every queued record that has a failover chain,
// because the channel's circuit is open.
func (w *worker) failOverHeld() {
	w.mu.Lock()
	var moved []*store.Notification
	for i := 0; i < w.queue.Len(); {
		if r := w.queue[i]; len(r.Failover) > 0 {
			heap.Remove(&w.queue, i)
			moved = append(moved, r)
			continue
		}
		i++
	}
	w.mu.Unlock()
	if len(moved) == 0 {
		return
	}
	cerr := Permanent(fmt.Errorf("%w: %s", ErrCircuitOpen, w.lastError()))
	for _, r := range moved {
		w.d.results <- w.d.failure(r, cerr, w.d.now(), 0, 0, string(store.OutcomeCircuitOpen), false)
	}
}

// pop takes the most urgent record and, when it belongs to a group, every
// queued record of the same group and event.
func (w *worker) pop() []*store.Notification {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Skip records of an alert that has a send in flight here, so one
	// alert's notifications reach the receiver in order (active before
	// resolved) and later ones can use the thread the first one opened.
	var first *store.Notification
	var skipped []*store.Notification
	for w.queue.Len() > 0 {
		r := heap.Pop(&w.queue).(*store.Notification)
		if w.busy[r.AlertID] > 0 {
			skipped = append(skipped, r)
			continue
		}
		first = r
		break
	}
	for _, r := range skipped {
		heap.Push(&w.queue, r)
	}
	if first == nil {
		return nil
	}
	out := []*store.Notification{first}
	if first.GroupKey != "" {
		// At most one record per alert: two (renotifications queued during
		// an outage) go out one after the other, in order.
		alerts := map[string]bool{first.AlertID: true}
		for i := 0; i < w.queue.Len(); {
			r := w.queue[i]
			if r.GroupKey == first.GroupKey && r.Event == first.Event && w.busy[r.AlertID] == 0 && !alerts[r.AlertID] {
				alerts[r.AlertID] = true
				heap.Remove(&w.queue, i)
				out = append(out, r)
				continue
			}
			i++
		}
	}
	for _, r := range out {
		w.busy[r.AlertID]++
	}
	if w.queue.Len() > 0 {
		// Another goroutine may take the rest.
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return out
}

// done marks popped records' alerts as no longer in flight and wakes a
// sender for records that waited behind them.
func (w *worker) done(recs []*store.Notification) {
	w.mu.Lock()
	for _, r := range recs {
		if w.busy[r.AlertID]--; w.busy[r.AlertID] <= 0 {
			delete(w.busy, r.AlertID)
		}
	}
	more := w.queue.Len() > 0
	w.mu.Unlock()
	if more {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (w *worker) loop(ctx, sendCtx context.Context) {
	for {
		if w.breaker.State() == gobreaker.StateOpen {
			// While the circuit is open, notifications with a failover
			// chain move on at once; the others wait here, leased and in
			// memory, until the circuit lets a trial through.
			w.failOverHeld()
			select {
			case <-ctx.Done():
				return
			case <-time.After(circuitPoll):
			}
			continue
		}
		recs := w.pop()
		if recs == nil {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				continue
			}
		}
		if ctx.Err() != nil {
			// Shutting down: leave it queued and held; Run releases the
			// leases of held records once every outcome is recorded.
			return
		}
		w.send(ctx, sendCtx, recs)
		w.done(recs)
	}
}

// send delivers one notification (several records when grouped).
func (w *worker) send(ctx, sendCtx context.Context, recs []*store.Notification) {
	d := w.d
	if w.cfg.Disabled || w.isGone() {
		w.fail(recs, d.failure(recs[0], Permanent(errors.New("channel is disabled")), d.now(), 0, 0, "", false))
		return
	}
	if ev := Event(recs[0].Event); ev != EventActive && ev != EventTest {
		if recs = w.holdBehind(sendCtx, recs); len(recs) == 0 {
			return
		}
	}
	n, recs, bad := w.build(sendCtx, recs)
	for _, b := range bad {
		// A payload that cannot be read fails its own record, not the
		// group it was to ride in.
		d.results <- d.failure(b.rec, Permanent(b.err), d.now(), 0, 0, "", false)
	}
	if n == nil {
		return
	}
	lead := recs[0]
	var held time.Duration
	if w.limiter != nil {
		start := time.Now()
		if err := w.limiter.Wait(ctx); err != nil {
			// Shutting down: the records stay held, and Run releases
			// their leases once every outcome is recorded.
			return
		}
		held = time.Since(start)
	}
	done, berr := w.breaker.Allow()
	if berr != nil {
		if errors.Is(berr, gobreaker.ErrOpenState) {
			// Open: each record with a failover chain moves on to its own
			// next channel, not tried here.
			cerr := Permanent(fmt.Errorf("%w: %s", ErrCircuitOpen, w.lastError()))
			now := d.now()
			var stay []*store.Notification
			for _, r := range recs {
				if len(r.Failover) == 0 {
					stay = append(stay, r)
					continue
				}
				d.results <- d.failure(r, cerr, now, 0, held, string(store.OutcomeCircuitOpen), false)
			}
			recs = stay
		}
		// The rest (all of them while a half-open circuit's trial call is
		// in flight: its outcome decides) go back in the queue until the
		// circuit lets them through; the loop waits while it is open.
		if len(recs) > 0 {
			w.requeue(recs)
			select {
			case <-ctx.Done():
			case <-time.After(circuitPoll):
			}
		}
		return
	}
	actx, cancel := context.WithTimeoutCause(sendCtx, w.retry.Timeout, w.timedOut)
	start := time.Now()
	rcpt, err := w.cfg.Channel.Send(actx, n)
	latency := time.Since(start)
	if err != nil && actx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", context.Cause(actx), err)
	}
	cancel()
	done(err)
	now := d.now()
	if err == nil {
		w.mu.Lock()
		for _, r := range recs {
			w.sentUnwritten[r.ID] = true
		}
		w.mu.Unlock()
		w.rememberThread(lead, n.Event, rcpt.Thread)
		w.markOK()
		d.metrics.observeLatency(w.cfg.Name, now.Sub(lead.CreatedAt).Seconds())
		d.results <- d.success(lead, rcpt, now, latency, held)
		w.groupedAway(recs, lead)
		return
	}
	w.markErr(err)
	if IsGone(err) {
		w.setGone(err)
	}
	// Grouped records share the lead's fate: retried, failed over or
	// failed with it.
	w.fail(recs, d.failure(lead, err, now, latency, held, "", true))
}

// fail sends the lead's failed outcome and its followers'. The followers'
// are worked out from the lead's first: once the lead's is sent, the
// finisher writes into it (its log entry's id).
func (w *worker) fail(recs []*store.Notification, lr *result) {
	now := w.d.now()
	follows := make([]*result, 0, len(recs)-1)
	for _, r := range recs[1:] {
		follows = append(follows, w.d.follow(r, recs[0], lr, now))
	}
	w.d.results <- lr
	for _, f := range follows {
		w.d.results <- f
	}
}

// groupedAway finishes records carried by the lead's notification.
func (w *worker) groupedAway(recs []*store.Notification, lead *store.Notification) {
	for _, r := range recs[1:] {
		w.d.results <- w.d.grouped(r, lead)
	}
}

// badRecord is a record whose payload cannot be read.
type badRecord struct {
	rec *store.Notification
	err error
}

// build turns records into the Notification the channel sees, led by the
// first record whose payload reads; kept are the records it carries. It
// returns a nil Notification when no payload reads.
func (w *worker) build(ctx context.Context, recs []*store.Notification) (n *Notification, kept []*store.Notification, bad []badRecord) {
	alerts := make([]AlertEvent, 0, len(recs))
	kept = make([]*store.Notification, 0, len(recs))
	for _, r := range recs {
		ae, err := decodeEvent(r)
		if err != nil {
			bad = append(bad, badRecord{rec: r, err: err})
			continue
		}
		alerts = append(alerts, ae)
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		return nil, nil, bad
	}
	lead := kept[0]
	n = &Notification{
		ID: lead.ID, IdempotencyKey: lead.IdempotencyKey, Channel: lead.Channel,
		Event: Event(lead.Event), GroupKey: lead.GroupKey, Attempt: lead.Attempts + 1,
		CreatedAt: lead.CreatedAt, Alerts: alerts,
	}
	if n.Event != EventActive && n.Event != EventTest {
		w.mu.Lock()
		th, ok := w.threads[lead.AlertID]
		w.mu.Unlock()
		if !ok {
			th, _ = w.d.st.ThreadGet(ctx, &store.ThreadGetParams{AlertID: lead.AlertID, Channel: lead.Channel})
		}
		n.Thread = th
	}
	if w.d.extURL != nil {
		n.ExternalURL = w.d.extURL(n.Alert())
	}
	return n, kept, bad
}

// decodeEvent returns the alert event a record carries: the one handed over
// in memory, else its stored payload decoded.
func decodeEvent(r *store.Notification) (AlertEvent, error) {
	switch d := r.Decoded.(type) {
	case *AlertEvent:
		return *d, nil
	case EventSource:
		ae, err := d.AlertEvent()
		if err != nil {
			return AlertEvent{}, fmt.Errorf("decode notification %d: %w", r.ID, err)
		}
		return *ae, nil
	}
	var ae AlertEvent
	if err := json.Unmarshal(r.Payload, &ae); err != nil {
		return AlertEvent{}, fmt.Errorf("decode notification %d payload: %w", r.ID, err)
	}
	if ae.Alert == nil {
		return AlertEvent{}, fmt.Errorf("decode notification %d payload: no alert in it", r.ID)
	}
	return ae, nil
}

// recHeap orders records by priority (higher first), then id.
type recHeap []*store.Notification

func (h recHeap) Len() int { return len(h) }
func (h recHeap) Less(i, j int) bool {
	if h[i].Priority != h[j].Priority {
		return h[i].Priority > h[j].Priority
	}
	return h[i].ID < h[j].ID
}
func (h recHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *recHeap) Push(x any)   { *h = append(*h, x.(*store.Notification)) }
func (h *recHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return x
}
