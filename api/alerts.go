package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/store"
)

// listAlerts answers GET /api/v1/alerts?state=&severity=&rule=&limit=.
// Without state it lists open alerts (live values from memory); state may be
// a comma list, "resolved" or "all".
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var sev alert.Severity
	if v := q.Get("severity"); v != "" {
		var err error
		if sev, err = alert.ParseSeverity(v); err != nil {
			s.fail(w, badField("severity", "%v", err))
			return
		}
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.fail(w, badField("limit", "must be a non-negative integer"))
			return
		}
		limit = n
	}
	var states []alert.State
	stateParam := q.Get("state")
	switch stateParam {
	case "", "open":
	case "all":
		states = alert.States
	default:
		for _, v := range strings.Split(stateParam, ",") {
			st, err := alert.ParseState(strings.TrimSpace(v))
			if err != nil {
				s.fail(w, badField("state", "%v", err))
				return
			}
			states = append(states, st)
		}
	}
	rule := q.Get("rule")
	var out []*alert.Alert
	onlyOpen := len(states) == 0 || !slices.Contains(states, alert.StateResolved)
	if onlyOpen {
		for _, a := range s.o.Manager.Open() {
			if len(states) > 0 && !slices.Contains(states, a.State) {
				continue
			}
			if (sev != 0 && a.Severity != sev) || (rule != "" && a.RuleID != rule) {
				continue
			}
			out = append(out, a)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	} else {
		var err error
		out, err = s.o.Store.AlertList(r.Context(), &store.AlertListParams{
			States: states, Severity: sev, RuleID: rule, Limit: limit,
		})
		if err != nil {
			s.fail(w, err)
			return
		}
	}
	if out == nil {
		out = []*alert.Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.o.Manager.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) alertHistory(w http.ResponseWriter, r *http.Request) {
	a, err := s.o.Manager.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	trs, err := s.o.Store.TransitionList(r.Context(), &store.TransitionListParams{AlertID: a.ID})
	if err != nil {
		s.fail(w, err)
		return
	}
	if trs == nil {
		trs = []alert.Transition{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alert": a, "transitions": trs})
}

// ackRequest is the optional body of ack and resolve: no body, an empty
// one (however sent) or only whitespace is the same as {}.
type ackRequest struct {
	By      string `json:"by"`
	Comment string `json:"comment"`
}

func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request) {
	var req ackRequest
	if err := decodeOptional(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	a, err := s.o.Manager.Acknowledge(r.Context(), r.PathValue("id"), req.By, req.Comment)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) resolveAlert(w http.ResponseWriter, r *http.Request) {
	var req ackRequest
	if err := decodeOptional(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	a, err := s.o.Manager.Resolve(r.Context(), r.PathValue("id"), req.By, req.Comment)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// pushedAlert is one element of POST /api/v1/alerts.
type pushedAlert struct {
	Labels      alert.Labels      `json:"labels"`
	Severity    string            `json:"severity"`
	Summary     string            `json:"summary"`
	Description string            `json:"description"`
	Annotations map[string]string `json:"annotations"`
	Status      string            `json:"status"`
	EndsAt      string            `json:"ends_at"`
}

// MaxPushAlerts bounds one POST /api/v1/alerts.
const MaxPushAlerts = 10000

func (s *Server) pushAlerts(w http.ResponseWriter, r *http.Request) {
	var req []pushedAlert
	if err := decode(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	if len(req) > MaxPushAlerts {
		s.fail(w, badField("body", "at most %d alerts per request, got %d", MaxPushAlerts, len(req)))
		return
	}
	in := make([]lifecycle.Pushed, len(req))
	for i, p := range req {
		f := "[" + strconv.Itoa(i) + "]"
		if len(p.Labels) == 0 {
			s.fail(w, badField(f+".labels", "at least one label is required"))
			return
		}
		for k := range p.Labels {
			if k == "" {
				s.fail(w, badField(f+".labels", "label names must not be empty"))
				return
			}
		}
		pu := lifecycle.Pushed{Labels: p.Labels, Summary: p.Summary, Description: p.Description, Annotations: p.Annotations}
		if p.Severity != "" {
			sev, err := alert.ParseSeverity(p.Severity)
			if err != nil {
				s.fail(w, badField(f+".severity", "%v", err))
				return
			}
			pu.Severity = sev
		}
		switch p.Status {
		case "", "firing":
		case "resolved":
			pu.Resolved = true
		default:
			s.fail(w, badField(f+".status", "must be firing or resolved, got %q", p.Status))
			return
		}
		if p.EndsAt != "" {
			t, err := time.Parse(time.RFC3339Nano, p.EndsAt)
			if err != nil {
				s.fail(w, badField(f+".ends_at", "must be an RFC 3339 time: %v", err))
				return
			}
			if !t.After(s.o.Now()) && !pu.Resolved {
				pu.Resolved = true
			}
			pu.EndsAt = t
		}
		in[i] = pu
	}
	res, err := s.o.Manager.Push(r.Context(), in)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"alerts": res})
}

// pushedSample is one element of POST /api/v1/metrics.
type pushedSample struct {
	Name      string       `json:"name"`
	Value     *float64     `json:"value"`
	Labels    alert.Labels `json:"labels"`
	Timestamp string       `json:"timestamp"`
}

// pushChecker checks a sample without recording it (metric.Registry).
type pushChecker interface {
	CheckPush(name string, labels alert.Labels, value float64, at time.Time) error
}

func (s *Server) pushMetrics(w http.ResponseWriter, r *http.Request) {
	if s.o.Metrics == nil {
		writeError(w, http.StatusNotImplemented, "this engine does not accept pushed metrics", "")
		return
	}
	var req []pushedSample
	if err := decode(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	now := s.o.Now()
	// Validate everything first so a bad sample rejects the whole request
	// and nothing is half-applied.
	ats := make([]time.Time, len(req))
	for i, p := range req {
		f := "[" + strconv.Itoa(i) + "]"
		if p.Name == "" {
			s.fail(w, badField(f+".name", "is required"))
			return
		}
		if p.Value == nil {
			s.fail(w, badField(f+".value", "is required"))
			return
		}
		ats[i] = now
		if p.Timestamp != "" {
			t, err := time.Parse(time.RFC3339Nano, p.Timestamp)
			if err != nil {
				s.fail(w, badField(f+".timestamp", "must be an RFC 3339 time: %v", err))
				return
			}
			ats[i] = t
		}
		if c, ok := s.o.Metrics.(pushChecker); ok {
			if err := c.CheckPush(p.Name, p.Labels, *p.Value, ats[i]); err != nil {
				s.fail(w, badField(f, "%v", err))
				return
			}
		}
	}
	for i, p := range req {
		if err := s.o.Metrics.Push(p.Name, p.Labels, *p.Value, ats[i]); err != nil {
			s.fail(w, badField("["+strconv.Itoa(i)+"]", "%v", err))
			return
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"accepted": len(req)})
}
