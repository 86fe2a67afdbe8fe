package klaxon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/postgres"
)

// replicaHook records webhook calls; it fails the first failFirst calls
// with a 500.
type replicaHook struct {
	failFirst int32
	calls     atomic.Int32
	mu        sync.Mutex
	accepted  []string // "type key"
}

func (h *replicaHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	if h.calls.Add(1) <= h.failFirst {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var b struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &b)
	h.mu.Lock()
	h.accepted = append(h.accepted, b.Type+" "+r.Header.Get("webhook-id"))
	h.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// types returns the event type of each accepted call, in order.
func (h *replicaHook) types() []string {
	var out []string
	for _, g := range h.got() {
		out = append(out, strings.Fields(g)[0])
	}
	return out
}

func (h *replicaHook) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.accepted...)
}

type replica struct {
	eng  *klaxon.Engine
	url  string
	stop func()
}

// startReplica runs one engine of a replica set on schema.
func startReplica(t *testing.T, dbURL, schema string, cfg *config.Config) *replica {
	t.Helper()
	return startReplicaWith(t, dbURL, schema, cfg, nil)
}

// startReplicaWith is startReplica with before called on the engine before
// it runs.
func startReplicaWith(t *testing.T, dbURL, schema string, cfg *config.Config, before func(*klaxon.Engine)) *replica {
	t.Helper()
	return startReplicaOver(t, dbURL, schema, cfg, nil, before)
}

// startReplicaOver is startReplicaWith with the engine's store, when wrap
// is set, wrap(the PostgreSQL store).
func startReplicaOver(t *testing.T, dbURL, schema string, cfg *config.Config,
	wrap func(*postgres.Store) store.Store, before func(*klaxon.Engine)) *replica {
	t.Helper()
	pg, err := postgres.Open(t.Context(), dbURL, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	var st store.Store = pg
	if wrap != nil {
		st = wrap(pg)
	}
	eng, err := klaxon.New(klaxon.WithConfig(cfg), klaxon.WithStore(st), klaxon.WithDataDir(t.TempDir()),
		klaxon.WithListen("127.0.0.1:0"), klaxon.WithAPIToken(replicaToken))
	require.NoError(t, err)
	if before != nil {
		before(eng)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = eng.Run(ctx); close(done) }()
	<-eng.Ready()
	var once sync.Once
	r := &replica{eng: eng, url: "http://" + eng.Addr(), stop: func() {
		once.Do(func() { cancel(); <-done; _ = pg.Close() })
	}}
	t.Cleanup(r.stop)
	return r
}

const replicaToken = "replica-set-token"

// apiCall calls a replica's API with the set's token.
func apiCall(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	return apiCallWith(t, method, url, body, http.Header{"Authorization": {"Bearer " + replicaToken}})
}

func apiCallWith(t *testing.T, method, url, body string, h http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func metricsText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(raw)
}

// Two replicas share one database: one leads, the follower forwards API
// calls to it, each notification is sent once, and when the leader stops
// the follower takes over with the open alerts and delivers what the old
// leader left queued.
func TestReplicas_PostgresLeaderFollower(t *testing.T) {
	t.Parallel()
	dbURL := os.Getenv("KLAXON_TEST_DATABASE_URL")
	if dbURL == "" {
		t.Skip("KLAXON_TEST_DATABASE_URL not set: skipping the replica set test (CI sets it)")
	}
	schema := fmt.Sprintf("klaxon_replicas_%d", rand.Uint64())
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dbURL)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			_ = conn.Close(context.Background())
		}
	})
	// The receiver fails the first call: the retry, 3 s later, is left in
	// the queue by the leader that stops.
	h := &replicaHook{failFirst: 1}
	srv := httptest.NewServer(h)
	defer srv.Close()
	yml := "channels:\n  ops:\n    type: webhook\n    url: " + srv.URL + "/hook\n" +
		"    retry:\n      initial_backoff: 3s\nroutes:\n  - notify: [ops]\n"
	cfg, err := config.Parse("replicas.yml", []byte(yml), klaxon.LoadOptions(func(string) string { return "" }))
	require.NoError(t, err)

	a := startReplica(t, dbURL, schema, cfg)
	require.True(t, a.eng.Leading(), "the first replica on a free database leads once Run is ready")
	b := startReplica(t, dbURL, schema, cfg)
	require.False(t, b.eng.Leading())
	require.Contains(t, metricsText(t, a.url), "klaxon_leader 1")
	require.Contains(t, metricsText(t, b.url), "klaxon_leader 0")

	// The follower forwards the client's credentials: the leader checks them.
	code, _ := apiCallWith(t, "POST", b.url+"/api/v1/alerts", `[{"labels": {"alertname": "x"}}]`, http.Header{})
	require.Equal(t, http.StatusUnauthorized, code)
	// A request another replica forwarded is never forwarded again.
	code, body := apiCallWith(t, "GET", b.url+"/api/v1/alerts", "", http.Header{"Klaxon-Forwarded-By": {"klaxon-other"}})
	require.Equal(t, http.StatusServiceUnavailable, code, "%v", body)

	// Pushed to the follower, handled by the leader.
	code, body = apiCall(t, "POST", b.url+"/api/v1/alerts", `[{"labels": {"alertname": "disk_full", "host": "db1"}, "severity": "critical"}]`)
	require.Equal(t, http.StatusAccepted, code, "%v", body)
	id := body["alerts"].([]any)[0].(map[string]any)["id"].(string)
	require.Len(t, a.eng.Alerts(), 1, "the leader holds the alert pushed to the follower")
	code, body = apiCall(t, "GET", b.url+"/api/v1/alerts", "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["alerts"], 1, "the follower answers from the leader")

	// The first send fails; the retry is due in 3 s. Stop the leader now.
	require.Eventually(t, func() bool { return h.calls.Load() >= 1 }, 10*time.Second, 10*time.Millisecond)
	a.stop()
	require.Eventually(t, b.eng.Leading, 10*time.Second, 20*time.Millisecond, "the follower did not take the lead")

	// The new leader delivers the retry its predecessor scheduled ...
	require.Eventually(t, func() bool { return len(h.got()) == 1 }, 20*time.Second, 20*time.Millisecond)
	require.True(t, strings.HasPrefix(h.got()[0], "alert.active "))

	// ... and knows the alert: acknowledging it notifies once.
	code, body = apiCall(t, "POST", b.url+"/api/v1/alerts/"+id+"/ack", `{"by": "bob"}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, "acknowledged", body["state"])
	require.Eventually(t, func() bool { return len(h.got()) == 2 }, 20*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	got := h.got()
	require.Len(t, got, 2, "a notification was sent twice: %v", got)
	require.True(t, strings.HasPrefix(got[1], "alert.acknowledged "))

	code, body = apiCall(t, "GET", b.url+"/api/v1/deliveries?alert="+id, "")
	require.Equal(t, http.StatusOK, code)
	require.NotEmpty(t, body["deliveries"])
}
