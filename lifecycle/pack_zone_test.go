package lifecycle

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

// The engine's clock is time.Now, in the process's local zone. With a zone
// other than UTC, the event a pushed alert's record hands to the dispatcher
// is still the stored payload: packing keeps each time's zone.
func TestPack_EventKeepsTheClocksZone(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var recs []*store.Notification
	m, st := zonedManager(t, func(n []*store.Notification) { mu.Lock(); recs = append(recs, n...); mu.Unlock() })
	ctx := context.Background()
	labels := alert.Labels{"alertname": "disk_full", "host": "db1"}
	_, err := m.Push(ctx, []Pushed{{Labels: labels, Summary: "full"}})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	ev, err := recs[0].Decoded.(notify.EventSource).AlertEvent()
	require.NoError(t, err)
	stored, err := st.NotificationList(ctx, &store.NotificationListParams{AlertID: ev.ID})
	require.NoError(t, err)
	sent, err := json.Marshal(ev)
	require.NoError(t, err)
	t.Logf("stored: %s", stored[0].Payload)
	t.Logf("sent:   %s", sent)
	require.JSONEq(t, string(stored[0].Payload), string(sent), "the event handed over is the stored payload")
}

// Manager.Open of an open pushed alert keeps the clock's zone, as a rule
// alert's times do.
func TestPack_OpenKeepsTheClocksZone(t *testing.T) {
	t.Parallel()
	m, _ := zonedManager(t, nil)
	_, err := m.Push(context.Background(), []Pushed{{Labels: alert.Labels{"alertname": "x"}}})
	require.NoError(t, err)
	a := m.Open()[0]
	b, _ := json.Marshal(a)
	t.Logf("%s", b)
	require.Equal(t, istZone, a.StartedAt.Location(), "started_at keeps the clock's zone")
}

// istZone is a zone other than UTC and the machine's.
var istZone = time.FixedZone("IST", 5*3600+1800)

// zonedManager is a manager on SQLite whose clock runs in istZone, routing
// everything to ops.
func zonedManager(t *testing.T, onEnqueue func([]*store.Notification)) (*Manager, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, istZone)
	m, err := New(t.Context(), Options{
		Store: st, Routes: []*Route{{Notify: []string{"ops"}}}, Now: func() time.Time { return now }, Owner: "me",
		OnEnqueue: onEnqueue,
	})
	require.NoError(t, err)
	return m, st
}
