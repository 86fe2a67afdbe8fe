package klaxon_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
)

// slackCalls counts the Slack Web API calls the engine makes.
type slackCalls struct {
	mu                     sync.Mutex
	posts, replies, update []map[string]string
}

func (s *slackCalls) counts() (int, int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.posts), len(s.replies), len(s.update)
}

// TestEngine_SlackAndPagerDutyLifecycle runs the channels issue's acceptance
// through the whole engine (lifecycle, durable queue, thread handles kept
// in the store): an alert that fires, is acknowledged and resolves is one
// Slack message posted once, updated twice, with thread replies, and one
// PagerDuty incident (trigger, acknowledge, resolve on one dedup_key).
func TestEngine_SlackAndPagerDutyLifecycle(t *testing.T) {
	t.Parallel()
	calls := &slackCalls{}
	slackSrv := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			form := map[string]string{"channel": r.PostForm.Get("channel"), "thread_ts": r.PostForm.Get("thread_ts")}
			calls.mu.Lock()
			ts := "1700000000.000100"
			if form["thread_ts"] == "" {
				calls.posts = append(calls.posts, form)
			} else {
				calls.replies = append(calls.replies, form)
				ts = "1700000000.000200"
			}
			calls.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0ALERTS", "ts": ts})
		})
		c.Handle("/chat.update", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			calls.mu.Lock()
			calls.update = append(calls.update, map[string]string{"channel": r.PostForm.Get("channel"), "ts": r.PostForm.Get("ts")})
			calls.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": r.PostForm.Get("ts")})
		})
	})
	slackSrv.Start()
	t.Cleanup(slackSrv.Stop)

	var pdMu sync.Mutex
	var events []map[string]any
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&ev))
		pdMu.Lock()
		events = append(events, ev)
		pdMu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"x"}`))
	}))
	t.Cleanup(pd.Close)

	eng := startEngine(t, `
evaluation_interval: 1h
channels:
  chat:
    type: slack
    token: xoxb-test-token
    channel: "#alerts"
    api_url: `+slackSrv.GetAPIURL()+`
  pager:
    type: pagerduty
    routing_key: R0UTINGKEY0123456789012345678901
    events_url: `+pd.URL+`/v2/enqueue
routes:
  - notify: [chat, pager]
`)
	ctx := t.Context()
	res, err := eng.Manager().Push(ctx, []lifecycle.Pushed{{
		Labels: alert.Labels{"alertname": "db_down", "service": "db"}, Severity: alert.Critical, Summary: "Database is down",
	}})
	require.NoError(t, err)
	id := res[0].ID
	waitFor := func(posts, replies, updates, pdEvents int) {
		t.Helper()
		require.Eventually(t, func() bool {
			p, r, u := calls.counts()
			pdMu.Lock()
			n := len(events)
			pdMu.Unlock()
			return p == posts && r == replies && u == updates && n == pdEvents
		}, 30*time.Second, 10*time.Millisecond)
	}
	waitFor(1, 0, 0, 1)
	_, err = eng.Manager().Acknowledge(ctx, id, "alice", "on it")
	require.NoError(t, err)
	waitFor(1, 1, 1, 2)
	_, err = eng.Manager().Resolve(ctx, id, "alice", "fixed")
	require.NoError(t, err)
	waitFor(1, 2, 2, 3)

	calls.mu.Lock()
	for _, u := range calls.update {
		require.Equal(t, "C0ALERTS", u["channel"])
		require.Equal(t, "1700000000.000100", u["ts"], "updates address the first message")
	}
	for _, r := range calls.replies {
		require.Equal(t, "1700000000.000100", r["thread_ts"], "replies go in its thread")
	}
	calls.mu.Unlock()

	pdMu.Lock()
	defer pdMu.Unlock()
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev["event_action"].(string))
		require.Equal(t, events[0]["dedup_key"], ev["dedup_key"])
	}
	require.Equal(t, []string{"trigger", "acknowledge", "resolve"}, actions)
	a, err := eng.Manager().Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, string(a.Fingerprint), events[0]["dedup_key"], "dedup_key is the alert fingerprint")
}
