package slack

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
)

// updateRecorder is the chat.update handler slacktest lacks: it answers
// like Slack and remembers each update's form.
type updateRecorder struct {
	mu      sync.Mutex
	updates []map[string]string
	// notFound makes every update answer message_not_found.
	notFound bool
}

func (u *updateRecorder) handle(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u.mu.Lock()
	u.updates = append(u.updates, map[string]string{
		"channel": r.PostForm.Get("channel"), "ts": r.PostForm.Get("ts"),
		"text": r.PostForm.Get("text"), "attachments": r.PostForm.Get("attachments"),
	})
	notFound := u.notFound
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if notFound {
		_, _ = w.Write([]byte(`{"ok":false,"error":"message_not_found"}`))
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ok": true, "channel": r.PostForm.Get("channel"), "ts": r.PostForm.Get("ts"), "text": r.PostForm.Get("text"),
	})
}

type lifecycleBundle struct {
	server  *slacktest.Server
	updates *updateRecorder
	rec     *recordingTransport
	ch      *Channel
}

func setupLifecycle(t *testing.T) *lifecycleBundle {
	t.Helper()
	b := &lifecycleBundle{updates: &updateRecorder{}}
	b.server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.update", b.updates.handle)
	})
	b.server.Start()
	t.Cleanup(b.server.Stop)
	var client *http.Client
	client, b.rec = newRecordingClient(t)
	b.ch = newAPIChannel(t, b.server.GetAPIURL(), client)
	return b
}

// decodeAttachments reads the form's attachments JSON.
func decodeAttachments(t *testing.T, s string) []slack.Attachment {
	t.Helper()
	var atts []slack.Attachment
	require.NoError(t, json.Unmarshal([]byte(s), &atts))
	return atts
}

// TestChannel_Send_Lifecycle is the acceptance test: an alert that fires, is
// acknowledged and resolves produces one Slack message, posted once and
// updated twice, with one thread reply per later transition.
func TestChannel_Send_Lifecycle(t *testing.T) {
	t.Parallel()
	b := setupLifecycle(t)
	ctx := t.Context()

	fired, err := b.ch.Send(ctx, testNotification(alert.StateActive, ""))
	require.NoError(t, err)
	channelID, ts, ok := strings.Cut(fired.Thread, ":")
	require.True(t, ok, "thread %q", fired.Thread)
	require.Equal(t, "C0ALERTS", channelID)
	require.NotEmpty(t, ts)
	require.Equal(t, http.StatusOK, fired.StatusCode)

	acked, err := b.ch.Send(ctx, testNotification(alert.StateAcknowledged, fired.Thread))
	require.NoError(t, err)
	require.Equal(t, fired.Thread, acked.Thread, "updates keep the thread")

	resolved, err := b.ch.Send(ctx, testNotification(alert.StateResolved, acked.Thread))
	require.NoError(t, err)
	require.Equal(t, fired.Thread, resolved.Thread)

	// Sort the Web API calls: top-level posts, thread replies, updates.
	var posts, replies []call
	for _, c := range b.rec.Calls() {
		require.Equal(t, testToken, c.Form.Get("token"), "slack-go sends the token in the form")
		switch c.Path {
		case "/chat.postMessage":
			if c.Form.Get("thread_ts") == "" {
				posts = append(posts, c)
			} else {
				replies = append(replies, c)
			}
		case "/chat.update":
		default:
			t.Fatalf("unexpected call %s", c.Path)
		}
	}
	require.Len(t, posts, 1, "one message per alert")
	require.Len(t, b.updates.updates, 2, "acknowledged and resolved update it")
	require.Len(t, replies, 2, "one reply per later transition")

	first := posts[0].Form
	require.Equal(t, "C0ALERTS", first.Get("channel"))
	require.Equal(t, "[CRITICAL] Alert: High error rate - Error rate is 12.5% (threshold 5%)", first.Get("text"))
	atts := decodeAttachments(t, first.Get("attachments"))
	require.Len(t, atts, 1)
	require.Equal(t, ColorCritical, atts[0].Color)
	require.Equal(t, "Alert: High error rate", atts[0].Title)
	require.Contains(t, first.Get("metadata"), `"event_type":"klaxon_alert"`)

	// Both updates address the first message and show the new state.
	for i, want := range []struct {
		color, title, text string
	}{
		{ColorCritical, "[ACKNOWLEDGED] Alert: High error rate", "[ACKNOWLEDGED by alice] Alert: High error rate - Error rate is 12.5% (threshold 5%)"},
		{ColorResolved, "[RESOLVED] Alert: High error rate", "[RESOLVED] Alert: High error rate - Error rate is 12.5% (threshold 5%)"},
	} {
		up := b.updates.updates[i]
		require.Equal(t, channelID, up["channel"], "update %d", i)
		require.Equal(t, ts, up["ts"], "update %d", i)
		require.Equal(t, want.text, up["text"], "update %d", i)
		atts := decodeAttachments(t, up["attachments"])
		require.Len(t, atts, 1)
		require.Equal(t, want.color, atts[0].Color, "update %d", i)
		require.Equal(t, want.title, atts[0].Title, "update %d", i)
	}
	ackAtt := decodeAttachments(t, b.updates.updates[0]["attachments"])[0]
	require.Contains(t, ackAtt.Fields, slack.AttachmentField{Title: "Acknowledged by", Value: "alice: looking into it", Short: true})

	// Replies go into the first message's thread and say what happened.
	for i, want := range []string{
		":eyes: *Acknowledged* by alice: looking into it at 2026-11-03T10:01:00Z",
		":white_check_mark: *Resolved* at 2026-11-03T10:05:00Z",
	} {
		r := replies[i].Form
		require.Equal(t, channelID, r.Get("channel"), "reply %d", i)
		require.Equal(t, ts, r.Get("thread_ts"), "reply %d", i)
		require.Equal(t, want, r.Get("text"), "reply %d", i)
		require.Empty(t, r.Get("attachments"), "reply %d", i)
	}
}

// TestChannel_Send_UpdateFallback checks that a deleted message gets a fresh
// one, whose thread replaces the stored one.
func TestChannel_Send_UpdateFallback(t *testing.T) {
	t.Parallel()
	b := setupLifecycle(t)
	b.updates.notFound = true

	r, err := b.ch.Send(t.Context(), testNotification(alert.StateResolved, "C0ALERTS:1700000000.000100"))
	require.NoError(t, err)
	require.NotEqual(t, "C0ALERTS:1700000000.000100", r.Thread)
	require.True(t, strings.HasPrefix(r.Thread, "C0ALERTS:"), r.Thread)

	calls := b.rec.Calls()
	require.Len(t, calls, 2)
	require.Equal(t, "/chat.update", calls[0].Path)
	require.Equal(t, "1700000000.000100", calls[0].Form.Get("ts"))
	require.Equal(t, "/chat.postMessage", calls[1].Path)
	require.Empty(t, calls[1].Form.Get("thread_ts"), "the fresh message is top-level")
	atts := decodeAttachments(t, calls[1].Form.Get("attachments"))
	require.Equal(t, ColorResolved, atts[0].Color)
	require.Equal(t, "[RESOLVED] Alert: High error rate", atts[0].Title)
}

// TestChannel_Send_BadThread checks that an unreadable stored thread
// falls back to a new message instead of failing forever.
func TestChannel_Send_BadThread(t *testing.T) {
	t.Parallel()
	b := setupLifecycle(t)

	r, err := b.ch.Send(t.Context(), testNotification(alert.StateAcknowledged, "not-a-thread"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(r.Thread, "C0ALERTS:"), r.Thread)
	calls := b.rec.Calls()
	require.Len(t, calls, 1)
	require.Equal(t, "/chat.postMessage", calls[0].Path)
	require.Empty(t, b.updates.updates)
}

// TestChannel_Send_DisplayOverrides checks username and icon_emoji on posts.
func TestChannel_Send_DisplayOverrides(t *testing.T) {
	t.Parallel()
	b := setupLifecycle(t)
	client, rec := newRecordingClient(t)
	ch, err := New("slack-ops", Config{
		Token: b.ch.cfg.Token, Channel: "#alerts", APIURL: strings.TrimSuffix(b.server.GetAPIURL(), "/"),
		Username: "klaxon", IconEmoji: ":rotating_light:",
	}, WithHTTPClient(client))
	require.NoError(t, err)

	r, err := ch.Send(t.Context(), testNotification(alert.StateActive, ""))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(r.Thread, "#alerts:"), "the stand-in echoes the channel: %s", r.Thread)
	calls := rec.Calls()
	require.Len(t, calls, 1)
	require.Equal(t, "/chat.postMessage", calls[0].Path, "api_url without / gets one")
	require.Equal(t, "klaxon", calls[0].Form.Get("username"))
	require.Equal(t, ":rotating_light:", calls[0].Form.Get("icon_emoji"))
	require.Equal(t, "#alerts", calls[0].Form.Get("channel"))
}
