package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

type silenceRequest struct {
	Matchers []struct {
		Name    string `json:"name"`
		Op      string `json:"op"`
		Value   string `json:"value"`
		IsRegex bool   `json:"is_regex"`
	} `json:"matchers"`
	StartsAt  string `json:"starts_at"`
	EndsAt    string `json:"ends_at"`
	Duration  string `json:"duration"`
	CreatedBy string `json:"created_by"`
	Comment   string `json:"comment"`
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("expired") == "true" || r.URL.Query().Get("all") == "true"
	list, err := s.o.Manager.Silences(r.Context(), all)
	if err != nil {
		s.fail(w, err)
		return
	}
	if list == nil {
		list = []*store.Silence{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": list})
}

func (s *Server) addSilence(w http.ResponseWriter, r *http.Request) {
	var req silenceRequest
	if err := decode(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	if len(req.Matchers) == 0 {
		s.fail(w, badField("matchers", "at least one matcher is required"))
		return
	}
	sil := &store.Silence{CreatedBy: req.CreatedBy, Comment: req.Comment}
	for i, m := range req.Matchers {
		op := alert.MatchOp(m.Op)
		if op == "" {
			op = alert.MatchEqual
			if m.IsRegex {
				op = alert.MatchRegexp
			}
		}
		mt, err := alert.NewMatcher(m.Name, op, m.Value)
		if err != nil {
			s.fail(w, badField("matchers["+strconv.Itoa(i)+"]", "%v", err))
			return
		}
		sil.Matchers = append(sil.Matchers, mt)
	}
	now := s.o.Now()
	sil.StartsAt = now
	if req.StartsAt != "" {
		t, err := time.Parse(time.RFC3339Nano, req.StartsAt)
		if err != nil {
			s.fail(w, badField("starts_at", "must be an RFC 3339 time: %v", err))
			return
		}
		sil.StartsAt = t
	}
	switch {
	case req.EndsAt != "":
		t, err := time.Parse(time.RFC3339Nano, req.EndsAt)
		if err != nil {
			s.fail(w, badField("ends_at", "must be an RFC 3339 time: %v", err))
			return
		}
		sil.EndsAt = t
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			s.fail(w, badField("duration", "must be a positive duration like 30m or 2h"))
			return
		}
		sil.EndsAt = sil.StartsAt.Add(d)
	default:
		s.fail(w, badField("ends_at", "ends_at or duration is required"))
		return
	}
	if !sil.EndsAt.After(sil.StartsAt) {
		s.fail(w, badField("ends_at", "must be after starts_at"))
		return
	}
	out, err := s.o.Manager.AddSilence(r.Context(), sil)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) {
	out, err := s.o.Manager.ExpireSilence(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
