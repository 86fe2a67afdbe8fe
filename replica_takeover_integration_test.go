package klaxon_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/postgres"
)

// flakyBoardStore is a PostgreSQL store whose board reads fail on demand and
// which, with neverLead, never takes the lead.
type flakyBoardStore struct {
	*postgres.Store
	failReads atomic.Bool
	neverLead bool
}

func (s *flakyBoardStore) ChannelReports(ctx context.Context, within time.Duration) ([]store.ChannelReport, error) {
	if s.failReads.Load() {
		return nil, errors.New("read channel health: connection reset")
	}
	return s.Store.ChannelReports(ctx, within)
}

func (s *flakyBoardStore) TryLead(ctx context.Context, self store.Replica) (store.Term, error) {
	if s.neverLead {
		return nil, nil
	}
	return s.Store.TryLead(ctx, self)
}

func startReplicaOn(t *testing.T, dbURL, schema string, cfg *config.Config, st *flakyBoardStore, before func(*klaxon.Engine)) *replica {
	t.Helper()
	return startReplicaOver(t, dbURL, schema, cfg, func(pg *postgres.Store) store.Store { st.Store = pg; return st }, before)
}

// A replica that takes the lead while its read of the board fails does not
// resolve the self-alert about a channel still failing on a live follower
// (it has no reports to go by); once a read succeeds it reconciles. The
// pager hears "active" once, never "resolved" and "active" again.
func TestReplicas_TakeoverWithAFailedBoardReadKeepsTheSelfAlert(t *testing.T) {
	t.Parallel()
	dbURL, schema := replicaSchema(t)
	cfg, _, pager := opsAndPager(t)
	fast := func(e *klaxon.Engine) { e.SetBoardTiming(50*time.Millisecond, 200*time.Millisecond, 30*time.Second) }

	a := startReplicaOn(t, dbURL, schema, cfg, &flakyBoardStore{}, fast)
	require.True(t, a.eng.Leading())
	const refused = "webhook POST http://10.0.0.9: dial tcp 10.0.0.9:80: connect: connection refused"
	// c never leads; ops fails there all along and c keeps reporting it.
	c := startReplicaOn(t, dbURL, schema, cfg, &flakyBoardStore{neverLead: true}, func(e *klaxon.Engine) {
		fast(e)
		e.SetChannelView(func(own []notify.ChannelHealth) []notify.ChannelHealth {
			for i := range own {
				if own[i].Name == "ops" {
					own[i].Healthy, own[i].Circuit, own[i].LastError = false, "open", refused
				}
			}
			return own
		})
	})
	_ = c
	bst := &flakyBoardStore{}
	b := startReplicaOn(t, dbURL, schema, cfg, bst, fast)
	require.False(t, b.eng.Leading())

	selfAlert := func(e *klaxon.Engine) *alert.Alert { return openSelfAlert(e, "ops") }
	types := pager.types
	require.Eventually(t, func() bool { return selfAlert(a.eng) != nil }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(pager.got()) == 1 }, 10*time.Second, 10*time.Millisecond)

	// The leader stops; b takes over while one read of the board fails
	// (the database blipped: often why the lead moved).
	bst.failReads.Store(true)
	a.stop()
	require.Eventually(t, b.eng.Leading, 10*time.Second, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	bst.failReads.Store(false)
	time.Sleep(time.Second)
	t.Logf("pager got: %v", types())
	require.NotNil(t, selfAlert(b.eng))
	require.Equal(t, []string{"alert.active"}, types(),
		"ops failed on c all along: the pager must not hear it resolved (and raised again)")
}
