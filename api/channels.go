package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) {
	var out []notify.ChannelHealth
	if s.o.Dispatcher != nil {
		out = s.o.Dispatcher.Health()
	}
	if out == nil {
		out = []notify.ChannelHealth{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": out})
}

func (s *Server) testChannel(w http.ResponseWriter, r *http.Request) {
	if s.o.Test == nil {
		writeError(w, http.StatusNotImplemented, "channel tests are not available", "")
		return
	}
	name := r.PathValue("name")
	start := time.Now()
	rc, err := s.o.Test(r.Context(), name)
	res := map[string]any{
		"channel": name, "ok": err == nil, "status_code": rc.StatusCode, "detail": rc.Detail,
		"latency_ms": float64(time.Since(start).Microseconds()) / 1000,
	}
	if err != nil {
		if err == store.ErrNotFound {
			writeError(w, http.StatusNotFound, "unknown channel "+strconv.Quote(name), "name")
			return
		}
		res["error"] = notify.Describe(err)
		res["status_code"] = notify.StatusCodeOf(err)
		writeJSON(w, http.StatusBadGateway, res)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// deliveryJSON is one delivery log entry as the API shows it.
type deliveryJSON struct {
	ID             int64   `json:"id"`
	NotificationID int64   `json:"notification_id,omitempty"`
	AlertID        string  `json:"alert_id"`
	Fingerprint    string  `json:"fingerprint"`
	Channel        string  `json:"channel"`
	Event          string  `json:"event"`
	Attempt        int     `json:"attempt"`
	At             string  `json:"at"`
	Outcome        string  `json:"outcome"`
	Reason         string  `json:"reason,omitempty"`
	StatusCode     int     `json:"status_code,omitempty"`
	LatencyMS      float64 `json:"latency_ms"`
	Error          string  `json:"error,omitempty"`
	Detail         string  `json:"detail,omitempty"`
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.fail(w, badField("limit", "must be a non-negative integer"))
			return
		}
		limit = n
	}
	// alert may be an alert id or a fingerprint (every alert of that
	// series); the store matches either.
	list, err := s.o.Store.DeliveryList(r.Context(), &store.DeliveryListParams{
		AlertID: q.Get("alert"), Channel: q.Get("channel"), Limit: limit,
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]deliveryJSON, 0, len(list))
	for _, d := range list {
		out = append(out, deliveryJSON{
			ID: d.ID, NotificationID: d.NotificationID, AlertID: d.AlertID, Fingerprint: string(d.Fingerprint),
			Channel: d.Channel, Event: d.Event, Attempt: d.Attempt, At: d.At.UTC().Format(time.RFC3339Nano),
			Outcome: string(d.Outcome), Reason: d.Reason, StatusCode: d.StatusCode,
			LatencyMS: float64(d.Latency.Microseconds()) / 1000, Error: d.Error, Detail: d.Detail,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}
