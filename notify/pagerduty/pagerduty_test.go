package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

func TestChannel_Send_TriggerPayload(t *testing.T) {
	t.Parallel()
	f := newFakePD(t)
	ch := newChannel(t, f, Config{Group: "shop"})
	a := firingAlert()

	rc, err := ch.Send(t.Context(), notification(notify.EventActive, a))
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, rc.StatusCode)
	require.Equal(t, "202 success: Event processed (trigger, dedup_key "+string(a.Fingerprint)+")", rc.Detail)
	require.Empty(t, rc.Thread)

	f.mu.Lock()
	h := f.headers[0]
	f.mu.Unlock()
	require.Equal(t, "application/json", h.Get("Content-Type"))
	require.True(t, strings.HasPrefix(h.Get("User-Agent"), "klaxon/"))
	require.Empty(t, h.Get("Authorization"), "the Events API takes the key in the body only")

	evs := f.events(t)
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, testKey, ev["routing_key"])
	require.Equal(t, "trigger", ev["event_action"])
	require.Equal(t, string(a.Fingerprint), ev["dedup_key"])
	require.Equal(t, "klaxon", ev["client"])
	require.Equal(t, "https://klaxon.example.com/alerts/"+a.ID, ev["client_url"])
	require.Equal(t, []any{
		map[string]any{"href": "https://klaxon.example.com/alerts/" + a.ID, "text": "Alert in klaxon"},
		map[string]any{"href": "https://example.com/runbooks/error-rate", "text": "Runbook"},
	}, ev["links"])
	require.NotContains(t, ev, "images")

	p := ev["payload"].(map[string]any)
	require.Equal(t, "Error rate is 12.5% on checkout", p["summary"])
	require.Equal(t, "web-01.example.com", p["source"], "metadata server when source is not configured")
	require.Equal(t, "critical", p["severity"], "high maps to critical by default")
	require.Equal(t, "2026-11-20T09:59:00Z", p["timestamp"], "active_at for a first trigger")
	require.Equal(t, "api", p["component"], "component label")
	require.Equal(t, "shop", p["group"], "configured group")
	require.NotContains(t, p, "class", "no class configured or labelled")

	d := p["custom_details"].(map[string]any)
	require.Equal(t, a.ID, d["alert_id"])
	require.Equal(t, string(a.Fingerprint), d["fingerprint"])
	require.Equal(t, "high_error_rate", d["rule_id"])
	require.Equal(t, "active", d["state"])
	require.Equal(t, "high", d["severity"])
	require.Equal(t, "alert.active", d["event"])
	require.Equal(t, 0.125, d["value"])
	require.Equal(t, 0.05, d["threshold"])
	require.Equal(t, "checkout fails one request in eight", d["description"])
	require.Equal(t, map[string]any{"service": "checkout", "env": "prod", "component": "api"}, d["labels"])
	require.Equal(t, map[string]any{"runbook_url": "https://example.com/runbooks/error-rate"}, d["annotations"])
	require.Equal(t, "2026-11-20T09:58:00Z", d["started_at"])
}

// TestChannel_Send_Lifecycle is the acceptance sequence: trigger,
// acknowledge and resolve address one PagerDuty alert through one dedup_key.
func TestChannel_Send_Lifecycle(t *testing.T) {
	t.Parallel()
	f := newFakePD(t)
	ch := newChannel(t, f, Config{})
	a := firingAlert()
	key := string(a.Fingerprint)

	steps := []struct {
		event  notify.Event
		state  alert.State
		action string
		want   string // fake's alert state afterwards
	}{
		{notify.EventActive, alert.StateActive, "trigger", "triggered"},
		{notify.EventAcknowledged, alert.StateAcknowledged, "acknowledge", "acknowledged"},
		{notify.EventResolved, alert.StateResolved, "resolve", "resolved"},
	}
	for i, s := range steps {
		rc, err := ch.Send(t.Context(), notification(s.event, withState(a, s.state)))
		require.NoError(t, err, s.action)
		require.Contains(t, rc.Detail, "("+s.action+", dedup_key "+key+")")
		require.Equal(t, s.want, f.stateOf(key), s.action)

		ev := f.events(t)[i]
		require.Equal(t, s.action, ev["event_action"])
		require.Equal(t, key, ev["dedup_key"])
		require.Equal(t, testKey, ev["routing_key"])
		if s.action != "trigger" {
			require.Len(t, ev, 3, "acknowledge and resolve carry only routing_key, event_action and dedup_key")
		}
	}
}

func TestChannel_Send_Events(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		event  notify.Event
		action string // "" when nothing is sent
	}{
		// Repeats of an unacknowledged alert trigger again (PagerDuty
		// de-duplicates them into the open alert).
		{"renotify", notify.EventRenotify, "trigger"},
		// Escalation steps page through a trigger too.
		{"escalated", notify.EventEscalated, "trigger"},
		// klaxon test-channel sends a real trigger.
		{"test", notify.EventTest, "trigger"},
		// Suppression tells PagerDuty nothing.
		{"suppressed", notify.Event("alert.suppressed"), ""},
		// Unknown future events are skipped, not failed.
		{"unknown", notify.Event("alert.commented"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakePD(t)
			ch := newChannel(t, f, Config{})
			rc, err := ch.Send(t.Context(), notification(tc.event, firingAlert()))
			require.NoError(t, err)
			evs := f.events(t)
			if tc.action == "" {
				require.Empty(t, evs)
				require.True(t, strings.HasPrefix(rc.Detail, "skipped: "), rc.Detail)
				require.Contains(t, rc.Detail, string(tc.event))
				require.Zero(t, rc.StatusCode)
				return
			}
			require.Len(t, evs, 1)
			require.Equal(t, tc.action, evs[0]["event_action"])
			p := evs[0]["payload"].(map[string]any)
			require.Equal(t, "2026-11-20T10:00:00Z", p["timestamp"], "repeats carry the alert's update time")
			require.Equal(t, string(tc.event), p["custom_details"].(map[string]any)["event"])
		})
	}
}

func TestChannel_Send_Status(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, rc notify.Receipt, err error)
	retryable := func(code int) check {
		return func(t *testing.T, _ notify.Receipt, err error) {
			require.Error(t, err)
			require.False(t, notify.IsPermanent(err))
			require.Equal(t, code, notify.StatusCodeOf(err))
			_, ok := notify.RetryAfterOf(err)
			require.False(t, ok, "no Retry-After: the dispatcher's backoff applies")
		}
	}
	retryAfter := func(d time.Duration, reason notify.Reason) check {
		return func(t *testing.T, _ notify.Receipt, err error) {
			require.Error(t, err)
			require.False(t, notify.IsPermanent(err))
			got, ok := notify.RetryAfterOf(err)
			require.True(t, ok)
			require.Equal(t, d, got)
			require.Equal(t, reason, notify.ReasonOf(err))
		}
	}
	answer := func(code int, header map[string]string, body any) func(http.ResponseWriter, *http.Request, map[string]any, int) bool {
		return func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) bool {
			for k, v := range header {
				w.Header().Set(k, v)
			}
			if s, ok := body.(string); ok {
				w.WriteHeader(code)
				_, _ = w.Write([]byte(s))
				return true
			}
			writeJSON(w, code, body)
			return true
		}
	}
	for _, tc := range []struct {
		name    string
		respond func(http.ResponseWriter, *http.Request, map[string]any, int) bool
		check   check
	}{
		// 202 is success; the detail quotes PagerDuty's status, message and
		// dedup_key.
		{"202", nil, func(t *testing.T, rc notify.Receipt, err error) {
			require.NoError(t, err)
			require.Equal(t, 202, rc.StatusCode)
			require.Contains(t, rc.Detail, "success: Event processed")
			require.Contains(t, rc.Detail, "dedup_key ")
		}},
		// 400 is permanent and quotes PagerDuty's errors list.
		{"400 with errors", answer(400, nil, map[string]any{"status": "invalid event", "message": "Event object is invalid",
			"errors": []string{"'payload.summary' is missing or blank", "'payload.source' is missing"}}),
			func(t *testing.T, _ notify.Receipt, err error) {
				require.Error(t, err)
				require.True(t, notify.IsPermanent(err))
				require.Equal(t, 400, notify.StatusCodeOf(err))
				require.Contains(t, err.Error(), `status 400: invalid event: Event object is invalid (errors: "'payload.summary' is missing or blank"; "'payload.source' is missing")`)
				require.Contains(t, notify.Describe(err), "permanent: pagerduty trigger (dedup_key ")
			}},
		// 429 with Retry-After in seconds asks the dispatcher to wait.
		{"429 retry-after seconds", answer(429, map[string]string{"Retry-After": "30"}, map[string]any{"status": "throttle event", "message": "Requests for this service are arriving too quickly."}),
			retryAfter(30*time.Second, notify.ReasonRateLimited)},
		// 429 with an HTTP-date Retry-After, read with the injected clock.
		{"429 retry-after date", answer(429, map[string]string{"Retry-After": t0.Add(2 * time.Minute).Format(http.TimeFormat)}, map[string]any{"status": "throttle event"}),
			retryAfter(2*time.Minute, notify.ReasonRateLimited)},
		// 429 without Retry-After stays retryable.
		{"429 without retry-after", answer(429, nil, map[string]any{"status": "throttle event", "message": "Request Limit Exceeded"}), retryable(429)},
		// 500 is retried.
		{"500", answer(500, nil, "internal error"), retryable(500)},
		// 502 from a proxy, with an HTML body, is retried.
		{"502", answer(502, nil, "<html>bad gateway</html>"), retryable(502)},
		// 503 with Retry-After.
		{"503 retry-after", answer(503, map[string]string{"Retry-After": "5"}, "busy"), retryAfter(5*time.Second, notify.ReasonServerError)},
		// 408 is retried.
		{"408", answer(408, nil, ""), retryable(408)},
		// 404 means a wrong events_url: permanent.
		{"404", answer(404, nil, "not found"), func(t *testing.T, _ notify.Receipt, err error) {
			require.True(t, notify.IsPermanent(err))
			require.Equal(t, 404, notify.StatusCodeOf(err))
		}},
		// Redirects are not followed (a POST would turn into a GET).
		{"301", func(w http.ResponseWriter, r *http.Request, _ map[string]any, _ int) bool {
			http.Redirect(w, r, "https://elsewhere.example.com/v2/enqueue", http.StatusMovedPermanently)
			return true
		}, func(t *testing.T, _ notify.Receipt, err error) {
			require.True(t, notify.IsPermanent(err))
			require.Equal(t, 301, notify.StatusCodeOf(err))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakePD(t)
			f.respond = tc.respond
			ch := newChannel(t, f, Config{})
			rc, err := ch.Send(t.Context(), notification(notify.EventActive, firingAlert()))
			tc.check(t, rc, err)
			if err != nil {
				require.NotContains(t, err.Error(), testKey)
			}
		})
	}
}

func TestChannel_Send_Timeout(t *testing.T) {
	t.Parallel()
	f := newFakePD(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.respond = func(_ http.ResponseWriter, r *http.Request, _ map[string]any, _ int) bool {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	}
	ch := newChannel(t, f, Config{Timeout: 50 * time.Millisecond})
	_, err := ch.Send(t.Context(), notification(notify.EventActive, firingAlert()))
	require.Error(t, err)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, notify.IsPermanent(err))
	require.Equal(t, notify.ReasonTimeout, notify.ReasonOf(err))
	require.Contains(t, err.Error(), "request timed out after 50ms")
}

func TestChannel_Send_ConnectionRefused(t *testing.T) {
	t.Parallel()
	f := newFakePD(t)
	u := f.url()
	f.srv.Close()
	ch, err := New("pager", Config{RoutingKey: newKey(), EventsURL: u})
	require.NoError(t, err)
	_, err = ch.Send(t.Context(), notification(notify.EventActive, firingAlert()))
	require.Error(t, err)
	var terr *TransportError
	require.ErrorAs(t, err, &terr)
	require.False(t, notify.IsPermanent(err))
	require.Equal(t, notify.ReasonConnection, notify.ReasonOf(err))
}

func TestChannel_Send_Canceled(t *testing.T) {
	t.Parallel()
	f := newFakePD(t)
	ch := newChannel(t, f, Config{})
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errors.New("shutting down"))
	_, err := ch.Send(ctx, notification(notify.EventActive, firingAlert()))
	require.ErrorIs(t, err, context.Canceled)
	require.Contains(t, err.Error(), "shutting down")
	require.Empty(t, f.events(t), "nothing is sent after cancel")
}

func TestChannel_Send_NoAlerts(t *testing.T) {
	t.Parallel()
	ch := newChannel(t, nil, Config{})
	_, err := ch.Send(t.Context(), &notify.Notification{Event: notify.EventActive})
	require.ErrorIs(t, err, ErrNoAlerts)
	require.True(t, notify.IsPermanent(err))
}

func TestChannel_Send_Grouped(t *testing.T) {
	t.Parallel()
	group := func() *notify.Notification {
		a, b, c := firingAlert(), firingAlert(), firingAlert()
		b.ID, b.Labels = "01JD0000000000000000000002", alert.Labels{"service": "cart"}
		b.Fingerprint = alert.NewFingerprint(b.RuleID, b.Labels)
		c.ID, c.Labels = "01JD0000000000000000000003", alert.Labels{"service": "search"}
		c.Fingerprint = alert.NewFingerprint(c.RuleID, c.Labels)
		return notification(notify.EventActive, a, b, c)
	}

	t.Run("all accepted", func(t *testing.T) {
		t.Parallel()
		f := newFakePD(t)
		ch := newChannel(t, f, Config{})
		n := group()
		rc, err := ch.Send(t.Context(), n)
		require.NoError(t, err)
		evs := f.events(t)
		require.Len(t, evs, 3, "one event per alert")
		for i, ev := range evs {
			a := n.Alerts[i]
			require.Equal(t, string(a.Fingerprint), ev["dedup_key"], "each alert its own dedup_key")
			require.Equal(t, "https://klaxon.example.com/alerts/"+a.ID, ev["client_url"], "link to each alert")
		}
		require.Equal(t, 202, rc.StatusCode)
		require.Contains(t, rc.Detail, "3 trigger events accepted")
	})

	t.Run("retryable failure fails the send", func(t *testing.T) {
		t.Parallel()
		f := newFakePD(t)
		f.respond = func(w http.ResponseWriter, _ *http.Request, _ map[string]any, i int) bool {
			if i != 1 {
				return false
			}
			writeJSON(w, 500, map[string]any{"status": "error", "message": "try again"})
			return true
		}
		ch := newChannel(t, f, Config{})
		n := group()
		_, err := ch.Send(t.Context(), n)
		require.Error(t, err)
		require.False(t, notify.IsPermanent(err))
		require.Contains(t, err.Error(), "alert 2 of 3")
		require.Len(t, f.events(t), 2, "the send stops at the first retryable failure")

		// The retry resends everything; PagerDuty de-duplicates.
		_, err = ch.Send(t.Context(), n)
		require.NoError(t, err)
		require.Len(t, f.events(t), 5)
		require.Equal(t, "triggered", f.stateOf(string(n.Alerts[2].Fingerprint)))
	})

	t.Run("permanent failure does not stop the others", func(t *testing.T) {
		t.Parallel()
		f := newFakePD(t)
		f.respond = func(w http.ResponseWriter, _ *http.Request, _ map[string]any, i int) bool {
			if i != 0 {
				return false
			}
			writeJSON(w, 400, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{"nope"}})
			return true
		}
		ch := newChannel(t, f, Config{})
		_, err := ch.Send(t.Context(), group())
		require.Error(t, err)
		require.True(t, notify.IsPermanent(err))
		require.Contains(t, err.Error(), "alert 1 of 3")
		require.Len(t, f.events(t), 3)
	})
}

func TestChannel_Send_SeverityMap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		m    map[string]string
		want map[alert.Severity]string
	}{
		// The seed mapping.
		{"default", nil, map[alert.Severity]string{
			alert.Critical: "critical", alert.High: "critical", alert.Medium: "warning", alert.Low: "info", alert.Info: "info",
		}},
		// Overrides replace only the keys they name; case is ignored.
		{"override", map[string]string{"high": "error", "LOW": "Warning"}, map[alert.Severity]string{
			alert.Critical: "critical", alert.High: "error", alert.Medium: "warning", alert.Low: "warning", alert.Info: "info",
		}},
		// Aliases of klaxon severities are accepted as keys.
		{"aliases", map[string]string{"warning": "error", "crit": "error"}, map[alert.Severity]string{
			alert.Critical: "error", alert.High: "critical", alert.Medium: "error", alert.Low: "info", alert.Info: "info",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakePD(t)
			ch := newChannel(t, f, Config{SeverityMap: tc.m})
			for _, sev := range alert.Severities {
				a := firingAlert()
				a.Severity = sev
				_, err := ch.Send(t.Context(), notification(notify.EventActive, a))
				require.NoError(t, err)
			}
			evs := f.events(t)
			require.Len(t, evs, len(alert.Severities))
			for i, sev := range alert.Severities {
				require.Equal(t, tc.want[sev], evs[i]["payload"].(map[string]any)["severity"], sev.String())
			}
		})
	}
}

func TestChannel_Send_Fields(t *testing.T) {
	t.Parallel()
	host := mustHostname(t)
	for _, tc := range []struct {
		name  string
		cfg   Config
		edit  func(a *alert.Alert, n *notify.Notification)
		check func(t *testing.T, ev map[string]any, p map[string]any)
	}{
		// Configured source, component, group and class win over the alert.
		{"config wins", Config{Source: "checkout.prod", Component: "db", Group: "shop", Class: "errors"}, nil,
			func(t *testing.T, _ map[string]any, p map[string]any) {
				require.Equal(t, "checkout.prod", p["source"])
				require.Equal(t, "db", p["component"])
				require.Equal(t, "shop", p["group"])
				require.Equal(t, "errors", p["class"])
			}},
		// Labels fill component, group and class when config leaves them.
		{"labels", Config{}, func(a *alert.Alert, _ *notify.Notification) {
			a.Labels = alert.Labels{"component": "eth0", "group": "edge", "class": "packet loss"}
		}, func(t *testing.T, _ map[string]any, p map[string]any) {
			require.Equal(t, "eth0", p["component"])
			require.Equal(t, "edge", p["group"])
			require.Equal(t, "packet loss", p["class"])
		}},
		// Metadata "source" when there is no "server".
		{"metadata source", Config{}, func(a *alert.Alert, _ *notify.Notification) {
			a.Metadata = map[string]string{"source": "batch-7"}
		}, func(t *testing.T, _ map[string]any, p map[string]any) {
			require.Equal(t, "batch-7", p["source"])
		}},
		// This host's name when nothing else names the source.
		{"hostname", Config{}, func(a *alert.Alert, _ *notify.Notification) {
			a.Metadata = nil
		}, func(t *testing.T, _ map[string]any, p map[string]any) {
			require.Equal(t, host, p["source"])
		}},
		// Without an external URL there is no client_url and only the
		// runbook link.
		{"no external url", Config{}, func(_ *alert.Alert, n *notify.Notification) {
			n.ExternalURL = ""
		}, func(t *testing.T, ev map[string]any, _ map[string]any) {
			require.NotContains(t, ev, "client_url")
			require.Equal(t, "klaxon", ev["client"])
			require.Equal(t, []any{map[string]any{"href": "https://example.com/runbooks/error-rate", "text": "Runbook"}}, ev["links"])
		}},
		// A runbook_url that is not an absolute URL is not a link (the
		// schema requires URLs) but stays in the annotations.
		{"relative runbook", Config{}, func(a *alert.Alert, n *notify.Notification) {
			a.Annotations = map[string]string{"runbook_url": "wiki/error-rate"}
			n.ExternalURL = ""
		}, func(t *testing.T, ev map[string]any, p map[string]any) {
			require.NotContains(t, ev, "links")
			require.Equal(t, map[string]any{"runbook_url": "wiki/error-rate"}, p["custom_details"].(map[string]any)["annotations"])
		}},
		// Without a summary the rule name is the summary; NaN values are
		// spelled out (JSON has no NaN); no threshold, no threshold key.
		{"fallbacks", Config{}, func(a *alert.Alert, _ *notify.Notification) {
			a.Summary, a.Threshold = "", nil
			a.Value = nan()
		}, func(t *testing.T, _ map[string]any, p map[string]any) {
			require.Equal(t, "High error rate", p["summary"])
			d := p["custom_details"].(map[string]any)
			require.Equal(t, "NaN", d["value"])
			require.NotContains(t, d, "threshold")
		}},
		// Without active_at a first trigger uses started_at.
		{"started_at", Config{}, func(a *alert.Alert, _ *notify.Notification) {
			a.ActiveAt = nil
		}, func(t *testing.T, _ map[string]any, p map[string]any) {
			require.Equal(t, "2026-11-20T09:58:00Z", p["timestamp"])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakePD(t)
			ch := newChannel(t, f, tc.cfg)
			a := firingAlert()
			n := notification(notify.EventActive, a)
			if tc.edit != nil {
				tc.edit(n.Alerts[0].Alert, n)
			}
			_, err := ch.Send(t.Context(), n)
			require.NoError(t, err)
			evs := f.events(t)
			require.Len(t, evs, 1)
			tc.check(t, evs[0], evs[0]["payload"].(map[string]any))
		})
	}
}

func TestChannel_Send_Golden(t *testing.T) {
	t.Parallel()
	grouped := func() *notify.Notification {
		a, b := firingAlert(), firingAlert()
		b.ID, b.Labels, b.Severity = "01JD0000000000000000000002", alert.Labels{"service": "cart", "class": "latency"}, alert.Medium
		b.Fingerprint = alert.NewFingerprint(b.RuleID, b.Labels)
		return notification(notify.EventEscalated, a, b)
	}
	for _, tc := range []struct {
		name string
		n    *notify.Notification
	}{
		// A first trigger with every field.
		{"trigger", notification(notify.EventActive, firingAlert())},
		// An acknowledgement: three fields.
		{"acknowledge", notification(notify.EventAcknowledged, withState(firingAlert(), alert.StateAcknowledged))},
		// A resolution: three fields.
		{"resolve", notification(notify.EventResolved, withState(firingAlert(), alert.StateResolved))},
		// An escalated group of two alerts: two events.
		{"grouped", grouped()},
		// klaxon test-channel's sample.
		{"test", notify.SampleNotification("pager", t0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakePD(t)
			ch := newChannel(t, f, Config{Source: "klaxon.example.com", SeverityMap: map[string]string{"medium": "error"}})
			_, err := ch.Send(t.Context(), tc.n)
			require.NoError(t, err)
			evs := f.events(t)
			got, err := json.Marshal(evs)
			require.NoError(t, err)
			golden(t, tc.name, got)
		})
	}
}

func TestChannel_DefaultRateLimit(t *testing.T) {
	t.Parallel()
	ch := newChannel(t, nil, Config{})
	perSecond, burst := ch.DefaultRateLimit()
	require.Equal(t, 2.0, perSecond, "120 events a minute")
	require.Equal(t, 10, burst)
	require.Equal(t, "pagerduty", ch.Type())
	require.Equal(t, "pager", ch.Name())
}
