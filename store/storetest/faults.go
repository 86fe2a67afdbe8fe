package storetest

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/klaxonhq/klaxon/store"
)

// ErrInjected is the error a FaultyStore's Apply returns.
var ErrInjected = errors.New("injected fault: database unavailable")

// FaultyStore wraps a store and makes Apply fail on demand, for tests of
// what callers do when a write fails.
type FaultyStore struct {
	store.Store
	// Fail makes every Apply fail without writing while set.
	Fail atomic.Bool
	// CommitThenFail makes the next Apply write and then report failure,
	// as when the connection drops during COMMIT.
	CommitThenFail atomic.Bool
}

// Apply is the wrapped store's Apply, with the faults asked for.
func (s *FaultyStore) Apply(ctx context.Context, p *store.ApplyParams) ([]*store.Notification, error) {
	if s.Fail.Load() {
		return nil, ErrInjected
	}
	recs, err := s.Store.Apply(ctx, p)
	if err == nil && s.CommitThenFail.CompareAndSwap(true, false) {
		return nil, ErrInjected
	}
	return recs, err
}
