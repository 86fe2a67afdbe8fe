package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// AddSilence stores a silence (a new id is assigned when empty) and
// suppresses the open alerts it matches, in one transaction each.
func (m *Manager) AddSilence(ctx context.Context, s *store.Silence) (*store.Silence, error) {
	if len(s.Matchers) == 0 {
		return nil, errors.New("matchers: at least one matcher is required")
	}
	for i := range s.Matchers {
		if err := s.Matchers[i].Compile(); err != nil {
			return nil, fmt.Errorf("matchers[%d]: %w", i, err)
		}
	}
	now := m.now()
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	if !s.EndsAt.After(s.StartsAt) {
		return nil, errors.New("ends_at: must be after starts_at")
	}
	if s.ID == "" {
		s.ID = newID()
		s.CreatedAt = now
	}
	s.UpdatedAt = now
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.writable(); err != nil {
		return nil, err
	}
	if err := m.store.SilenceUpsert(ctx, s); err != nil {
		return nil, fmt.Errorf("store silence: %w", err)
	}
	m.setSilence(s)
	return s, m.reconcile(ctx, now)
}

// ExpireSilence ends a silence now; alerts it suppressed become active
// again (and notify) unless another silence matches them.
func (m *Manager) ExpireSilence(ctx context.Context, id string) (*store.Silence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.writable(); err != nil {
		return nil, err
	}
	s, err := m.store.SilenceGet(ctx, id)
	if err != nil {
		return nil, err
	}
	now := m.now()
	if s.EndsAt.After(now) {
		s.EndsAt = now
		if s.StartsAt.After(now) {
			s.StartsAt = now
		}
		s.UpdatedAt = now
		if err := m.store.SilenceUpsert(ctx, s); err != nil {
			return nil, fmt.Errorf("store silence: %w", err)
		}
	}
	m.setSilence(s)
	return s, m.reconcile(ctx, now)
}

// Silences lists silences; expired ones too when all is set.
func (m *Manager) Silences(ctx context.Context, all bool) ([]*store.Silence, error) {
	return m.store.SilenceList(ctx, &store.SilenceListParams{IncludeExpired: all, Now: m.now()})
}

// setSilence replaces or adds s in memory. Must hold mu.
func (m *Manager) setSilence(s *store.Silence) {
	for i, old := range m.silences {
		if old.ID == s.ID {
			m.silences[i] = s
			return
		}
	}
	m.silences = append(m.silences, s)
}

// silenceFor returns the first silence in force that matches l. Must hold mu.
func (m *Manager) silenceFor(l alert.Labels, now time.Time) *store.Silence {
	for _, s := range m.silences {
		if s.Active(now) && s.Matchers.Matches(l) {
			return s
		}
	}
	return nil
}

// reconcile suppresses active alerts a silence matches and reactivates
// suppressed alerts no silence matches any more. Must hold mu.
func (m *Manager) reconcile(ctx context.Context, now time.Time) error {
	kept := m.silences[:0]
	for _, s := range m.silences {
		if s.EndsAt.After(now) {
			kept = append(kept, s)
		}
	}
	m.silences = kept
	m.silenceDue = m.nextSilenceBoundary(now)
	var b batch
	for _, e := range m.open {
		if e.state != alert.StateActive && e.state != alert.StateSuppressed {
			continue
		}
		cur := e.alert()
		switch e.state {
		case alert.StateActive:
			if s := m.silenceFor(cur.Labels, now); s != nil {
				next := cur.Clone()
				next.SilencedBy = s.ID
				m.transition(&b, e, next, change{to: alert.StateSuppressed, by: "silence", comment: "silenced by " + s.ID}, now)
			}
		case alert.StateSuppressed:
			if s := m.silenceFor(cur.Labels, now); s == nil {
				next := cur.Clone()
				next.SilencedBy = ""
				// Active again from now: escalation steps count from here,
				// so on-call gets each step's time to acknowledge instead
				// of every overdue step at once.
				next.ActiveAt = &now
				m.transition(&b, e, next, change{to: alert.StateActive, by: "silence", comment: "silence ended"}, now)
			} else if s.ID != cur.SilencedBy {
				next := cur.Clone()
				next.SilencedBy = s.ID
				b.add(store.Change{Alert: next}, func() { e.set(next); m.index(e, next.Fingerprint) })
			}
		}
	}
	if err := m.commit(ctx, &b); err != nil {
		// The boundary is not lost: the next Tick tries again.
		m.silenceDue = now
		return err
	}
	return nil
}

// nextSilenceBoundary is the next time after now a silence starts or ends
// (zero when none will). Must hold mu.
func (m *Manager) nextSilenceBoundary(now time.Time) time.Time {
	var next time.Time
	for _, s := range m.silences {
		for _, t := range []time.Time{s.StartsAt, s.EndsAt} {
			if t.After(now) && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	}
	return next
}
