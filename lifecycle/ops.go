package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// findOpen returns the open entry with that id or fingerprint. Must hold mu.
func (m *Manager) findOpen(idOrFP string) *entry {
	if e, ok := m.byID[idOrFP]; ok {
		return e
	}
	if e, ok := m.open[alert.Fingerprint(idOrFP)]; ok {
		return e
	}
	return nil
}

// Get returns an alert by id or fingerprint: the open one when there is
// one, else the store's latest.
func (m *Manager) Get(ctx context.Context, idOrFP string) (*alert.Alert, error) {
	m.mu.Lock()
	if e := m.findOpen(idOrFP); e != nil {
		a := e.copy()
		m.mu.Unlock()
		return a, nil
	}
	m.mu.Unlock()
	return m.store.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: idOrFP})
}

// Acknowledge marks an active or suppressed alert as taken by who, which
// stops its escalation and renotification and tells its channels.
func (m *Manager) Acknowledge(ctx context.Context, idOrFP, who, comment string) (*alert.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.writable(); err != nil {
		return nil, err
	}
	e := m.findOpen(idOrFP)
	if e == nil {
		return nil, m.notOpen(ctx, idOrFP)
	}
	switch e.state {
	case alert.StateActive, alert.StateSuppressed:
	case alert.StateAcknowledged:
		return e.copy(), nil
	default:
		return nil, fmt.Errorf("%w: a %s alert cannot be acknowledged", ErrInvalidTransition, e.state)
	}
	if who == "" {
		who = "unknown"
	}
	now := m.now()
	next := e.copy()
	next.AcknowledgedAt = &now
	next.AcknowledgedBy = who
	next.AckComment = comment
	var b batch
	m.transition(&b, e, next, change{to: alert.StateAcknowledged, by: who, comment: comment}, now)
	if err := m.commit(ctx, &b); err != nil {
		return nil, err
	}
	return next.Clone(), nil
}

// Resolve resolves an open alert by hand. If its rule's condition still
// holds, the next evaluation opens a new alert.
func (m *Manager) Resolve(ctx context.Context, idOrFP, who, comment string) (*alert.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.writable(); err != nil {
		return nil, err
	}
	e := m.findOpen(idOrFP)
	if e == nil {
		return nil, m.notOpen(ctx, idOrFP)
	}
	if who == "" {
		who = "operator"
	}
	now := m.now()
	next := e.copy()
	next.ResolvedAt = &now
	var b batch
	m.transition(&b, e, next, change{to: alert.StateResolved, by: who, comment: comment}, now)
	if err := m.commit(ctx, &b); err != nil {
		return nil, err
	}
	return next.Clone(), nil
}

// notOpen explains why idOrFP has no open alert: unknown (ErrNotFound) or
// already resolved (ErrInvalidTransition).
func (m *Manager) notOpen(ctx context.Context, idOrFP string) error {
	a, err := m.store.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: idOrFP})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("alert %q: %w", idOrFP, ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: alert %s is %s", ErrInvalidTransition, a.ID, a.State)
}

// Pushed is an alert evaluated elsewhere and posted over the API.
type Pushed struct {
	Labels      alert.Labels
	Severity    alert.Severity // default medium
	Summary     string
	Description string
	Annotations map[string]string
	// Resolved resolves the open alert with these labels.
	Resolved bool
	// EndsAt resolves the alert by itself at that time unless posted again;
	// zero means now + ResolveTimeout.
	EndsAt time.Time
	// Channels, when set, are notified instead of the routes' channels.
	Channels []string
}

// PushResult names the alert a Pushed entry landed on.
type PushResult struct {
	ID          string            `json:"id"`
	Fingerprint alert.Fingerprint `json:"fingerprint"`
	State       alert.State       `json:"state"`
}

// pushReq is one Push call waiting for a group commit.
type pushReq struct {
	in   []Pushed
	out  []PushResult
	err  error
	done chan struct{}
}

// Push applies alerts posted from outside, all in one transaction. A firing
// alert that is already open only gets its end time (and texts) refreshed;
// a resolved one resolves the open alert (unknown labels are ignored).
//
// Concurrent calls share transactions (group commit): the caller that gets
// the lock applies the oldest posts waiting by then, up to maxGroupAlerts,
// in arrival order, as if one after the other, and commits them once. Each
// caller returns once its alerts are durable; a failed commit fails every
// post in it, and none of them changed anything.
func (m *Manager) Push(ctx context.Context, in []Pushed) ([]PushResult, error) {
	for i := range in {
		if len(in[i].Labels) == 0 {
			return nil, fmt.Errorf("alerts[%d].labels: at least one label is required", i)
		}
	}
	req := &pushReq{in: in, done: make(chan struct{})}
	m.pushMu.Lock()
	m.pushQ = append(m.pushQ, req)
	m.pushMu.Unlock()

	m.lead(ctx, req)
	<-req.done
	return req.out, req.err
}

// lead commits the waiting posts, a group at a time, until req is
// committed. Its caller must lead on: the callers of posts committed in
// earlier groups return without leading, so nobody else may come for req.
// One caller leads at a time; the others wait for the lead or for their
// own post's commit, whichever comes first, so a caller whose post another
// leader committed returns at once, and the lock is taken for one group at
// a time, so Tick or an acknowledgement get their turn between groups.
func (m *Manager) lead(ctx context.Context, req *pushReq) {
	for {
		select {
		case <-req.done:
			return
		case m.leading <- struct{}{}:
		}
		if !m.leadOne(ctx, req) {
			return
		}
	}
}

// leadOne commits the next group unless req is committed already, and
// reports whether req still waits. The caller holds the lead, which this
// gives back, panic or not.
func (m *Manager) leadOne(ctx context.Context, req *pushReq) bool {
	defer func() { <-m.leading }()
	m.mu.Lock()
	defer m.mu.Unlock()
	if req.committed() {
		return false
	}
	m.pushMu.Lock()
	reqs := m.takeGroup()
	m.pushMu.Unlock()
	if len(reqs) == 0 {
		panic("lifecycle: a post waiting to commit is missing from the queue")
	}
	m.commitGroup(ctx, req, reqs)
	return !req.committed()
}

// commitGroup applies reqs in one transaction. If that panics, the group's
// posts and the leader's own, when it still waits, fail instead of waiting
// forever, and the panic goes on.
func (m *Manager) commitGroup(ctx context.Context, own *pushReq, reqs []*pushReq) {
	completed := false
	defer func() {
		if completed {
			return
		}
		p := recover()
		failed := reqs
		m.pushMu.Lock()
		if i := slices.Index(m.pushQ, own); i >= 0 {
			m.pushQ = slices.Delete(m.pushQ, i, i+1)
			failed = append(slices.Clip(reqs), own)
		}
		m.pushMu.Unlock()
		for _, r := range failed {
			r.err = fmt.Errorf("push: internal error: %v", p)
			close(r.done)
		}
		if p != nil {
			panic(p)
		}
	}()
	// The commit serves other callers too: one caller's cancellation must
	// not fail theirs.
	m.pushLocked(context.WithoutCancel(ctx), reqs)
	completed = true
}

// committed reports whether r's post was committed (or failed).
func (r *pushReq) committed() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// maxGroupAlerts bounds the alerts one group commit applies: the posts
// past it wait for the next commit, which their own callers lead. A group
// holds each of its alerts several times over until it commits (the alert,
// its row's arguments, transition, notification records and payload, about
// 2 KB each), and a burst of posters grouped into one commit of thousands
// raised the heap's peak by as much, for one fsync fewer per 500 alerts.
const maxGroupAlerts = 500

// takeGroup removes from pushQ the posts of the next group commit: the
// oldest, and those after it while the group stays within maxGroupAlerts.
// Must hold pushMu.
func (m *Manager) takeGroup() []*pushReq {
	n, total := 0, 0
	for n < len(m.pushQ) && (n == 0 || total+len(m.pushQ[n].in) <= maxGroupAlerts) {
		total += len(m.pushQ[n].in)
		n++
	}
	reqs := m.pushQ[:n:n]
	if n == len(m.pushQ) {
		m.pushQ = nil
	} else {
		m.pushQ = slices.Clone(m.pushQ[n:])
	}
	return reqs
}

// pushLocked applies reqs in one batch and completes each. Must hold mu.
func (m *Manager) pushLocked(ctx context.Context, reqs []*pushReq) {
	var in []Pushed
	if len(reqs) == 1 {
		in = reqs[0].in
	} else {
		for _, r := range reqs {
			in = append(in, r.in...)
		}
	}
	out, err := m.pushBatch(ctx, in)
	for _, r := range reqs {
		if err != nil {
			r.err = err
		} else {
			r.out, out = out[:len(r.in):len(r.in)], out[len(r.in):]
		}
		close(r.done)
	}
}

// pushBatch applies in as one transaction. Must hold mu.
func (m *Manager) pushBatch(ctx context.Context, in []Pushed) ([]PushResult, error) {
	now := m.now()
	var b batch
	out := make([]PushResult, len(in))
	// staged holds the alerts this batch already changed, so a fingerprint
	// posted twice in one request sees its first entry (memory changes only
	// after the commit): nil once resolved here.
	staged := map[alert.Fingerprint]*entry{}
	current := func(fp alert.Fingerprint) (*entry, bool) {
		if e, ok := staged[fp]; ok {
			return e, e != nil
		}
		e, ok := m.open[fp]
		return e, ok
	}
	for i := range in {
		p := &in[i]
		fp := alert.NewFingerprint("", p.Labels)
		endsAt := p.EndsAt
		if endsAt.IsZero() {
			endsAt = now.Add(m.resolveTimeout)
		}
		e, open := current(fp)
		if open {
			// A private view of the entry: the transition's memory update
			// then applies to it, after the commit, in batch order.
			cp := *e
			e = &cp
		}
		switch {
		case p.Resolved:
			if !open {
				out[i] = PushResult{Fingerprint: fp, State: alert.StateResolved}
				continue
			}
			next := e.copy()
			next.ResolvedAt = &now
			m.transition(&b, e, next, change{to: alert.StateResolved, by: "api"}, now)
			staged[fp] = nil
			out[i] = PushResult{ID: next.ID, Fingerprint: fp, State: alert.StateResolved}
		case open:
			if len(p.Channels) > 0 {
				// A pushed alert's own channels are not stored with it:
				// one restored after a restart learns them again from its
				// next post, as a rule's alert does from its next
				// evaluation. A post without channels leaves them be.
				e.explicit = p.Channels
			}
			explicit := e.explicit
			next := e.copy()
			next.EndsAt = &endsAt
			pushTexts(next, p)
			next.UpdatedAt = now
			b.add(store.Change{Alert: next, Deliveries: []*store.Delivery{{
				AlertID: next.ID, Fingerprint: fp, At: now, Outcome: store.OutcomeDeduplicated,
				Reason: "already_open", Detail: "posted again while " + string(next.State) + ": end time moved to " +
					endsAt.UTC().Format(time.RFC3339) + ", nobody notified again",
			}}}, func() {
				if cur := m.open[fp]; cur != nil {
					cur.set(next)
					cur.explicit = explicit
					m.index(cur, fp)
				}
			})
			b.dueAt(endsAt)
			staged[fp] = &entry{a: next, id: next.ID, state: next.State, seq: next.Sequence, explicit: explicit}
			out[i] = PushResult{ID: next.ID, Fingerprint: fp, State: next.State}
		default:
			e = &entry{explicit: p.Channels}
			// The posted labels are read, not kept: a pushed alert is
			// packed (copied) when its transition commits, before Push
			// returns, so no copy is needed here.
			next := &alert.Alert{
				ID: newID(), Fingerprint: fp, Labels: p.Labels, Source: "api",
				RuleName: p.Labels["alertname"], StartedAt: now, EndsAt: &endsAt,
			}
			pushTexts(next, p)
			m.activate(&b, e, next, now, "api")
			staged[fp] = &entry{a: next, id: next.ID, state: next.State, seq: next.Sequence, explicit: e.explicit}
			out[i] = PushResult{ID: next.ID, Fingerprint: fp, State: alert.StateActive}
		}
	}
	if err := m.commit(ctx, &b); err != nil {
		return nil, err
	}
	for i := range out {
		if e, ok := m.open[out[i].Fingerprint]; ok && out[i].State != alert.StateResolved {
			out[i].State = e.state
		}
	}
	return out, nil
}

func pushTexts(a *alert.Alert, p *Pushed) {
	setTexts(a, p.Severity, p.Summary, p.Description, p.Annotations)
}
