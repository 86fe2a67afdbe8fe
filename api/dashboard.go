package api

import (
	"html/template"
	"net/http"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// The dashboard is one server-rendered page (no JavaScript needed) that
// refreshes itself: open alerts, channel health, recent deliveries and
// silences. html/template escapes every value; secrets never reach it
// because channel health carries none.
var dashboardTmpl = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"ts": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>klaxon</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
h1{margin:0 0 .2em}small{color:#777}
table{border-collapse:collapse;width:100%;margin:.5em 0 2em}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #ddd;vertical-align:top}
.critical{color:#fff;background:#c00}.high{background:#ff8c00}.medium{background:#ffd700}
.low{background:#32cd32}.info{background:#87ceeb}.sev{padding:1px 6px;border-radius:3px;font-weight:600}
.bad{color:#c00;font-weight:600}.ok{color:#080}
</style></head><body>
<h1>klaxon</h1><small>version {{.Version}} &middot; {{ts .Now}}</small>
<h2 id="alerts">Open alerts ({{len .Alerts}})</h2>
<table><tr><th>Severity</th><th>State</th><th>Alert</th><th>Summary</th><th>Labels</th><th>Value</th><th>Since</th></tr>
{{range .Alerts}}<tr><td><span class="sev {{.Severity}}">{{.Severity}}</span></td><td>{{.State}}{{if .AcknowledgedBy}} by {{.AcknowledgedBy}}{{end}}</td>
<td><a href="/api/v1/alerts/{{.ID}}">{{if .RuleName}}{{.RuleName}}{{else}}{{.RuleID}}{{end}}</a></td><td>{{.Summary}}</td>
<td>{{.Labels}}</td><td>{{.Value}}</td><td>{{ago .StartedAt}}</td></tr>
{{else}}<tr><td colspan="7">No open alerts.</td></tr>{{end}}</table>
<h2 id="channels">Channels</h2>
<table><tr><th>Name</th><th>Type</th><th>Health</th><th>Circuit</th><th>Queued</th><th>In memory</th><th>Sent</th><th>Failed</th><th>Last error</th></tr>
{{range .Channels}}<tr><td>{{.Name}}</td><td>{{.Type}}</td><td>{{if .Healthy}}<span class="ok">healthy</span>{{else}}<span class="bad">failing</span>{{end}}{{if .Disabled}} (disabled){{end}}</td>
<td>{{.Circuit}}</td><td>{{.Queued}}</td><td>{{.Pending}}</td><td>{{.Sent}}</td><td>{{.Failed}}</td><td>{{.LastError}}</td></tr>
{{else}}<tr><td colspan="9">No channels.</td></tr>{{end}}</table>
<h2 id="silences">Silences</h2>
<table><tr><th>Matchers</th><th>Until</th><th>By</th><th>Comment</th></tr>
{{range .Silences}}<tr><td>{{range .Matchers}}{{.}} {{end}}</td><td>{{ts .EndsAt}}</td><td>{{.CreatedBy}}</td><td>{{.Comment}}</td></tr>
{{else}}<tr><td colspan="4">No active silences.</td></tr>{{end}}</table>
<h2 id="deliveries">Recent deliveries</h2>
<table><tr><th>Time</th><th>Channel</th><th>Event</th><th>Outcome</th><th>Attempt</th><th>Status</th><th>Latency</th><th>Detail</th></tr>
{{range .Deliveries}}<tr><td>{{ts .At}}</td><td>{{.Channel}}</td><td>{{.Event}}</td><td>{{.Outcome}}</td><td>{{.Attempt}}</td>
<td>{{if .StatusCode}}{{.StatusCode}}{{end}}</td><td>{{.Latency}}</td><td>{{.Error}} {{.Detail}}</td></tr>
{{else}}<tr><td colspan="8">Nothing delivered yet.</td></tr>{{end}}</table>
</body></html>`))

type dashboardData struct {
	Version    string
	Now        time.Time
	Alerts     []*alert.Alert
	Channels   []notify.ChannelHealth
	Silences   []*store.Silence
	Deliveries []*store.Delivery
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	data := dashboardData{Version: s.o.Version, Now: s.o.Now(), Alerts: s.o.Manager.Open()}
	if s.o.Dispatcher != nil {
		data.Channels = s.o.Dispatcher.Health()
	}
	data.Silences, _ = s.o.Manager.Silences(r.Context(), false)
	data.Deliveries, _ = s.o.Store.DeliveryList(r.Context(), &store.DeliveryListParams{Limit: 50})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := dashboardTmpl.Execute(w, data); err != nil {
		s.log.Error("render dashboard", "err", err)
	}
}
