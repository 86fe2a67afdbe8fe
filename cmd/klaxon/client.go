package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// client talks to a running klaxon's HTTP API.
type client struct {
	base   string
	output string
	getenv func(string) string
	http   *http.Client
}

func addClientCommands(root *cobra.Command, getenv func(string) string) {
	c := &client{getenv: getenv, http: &http.Client{Timeout: 30 * time.Second}}
	// main prints a command's error once ("klaxon: ..."); cobra printing it
	// too ("Error: ...") showed every error twice.
	root.SilenceErrors = true
	pf := root.PersistentFlags()
	pf.StringVar(&c.base, "url", "http://127.0.0.1:9095", "klaxon API base URL")
	pf.StringVarP(&c.output, "output", "o", "table", "output format: table or json")

	alerts := &cobra.Command{
		Use:   "alerts",
		Short: "List alerts (open ones by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			for _, f := range []string{"state", "severity", "rule"} {
				if v, _ := cmd.Flags().GetString(f); v != "" {
					q.Set(f, v)
				}
			}
			var res struct {
				Alerts []map[string]any `json:"alerts"`
			}
			raw, err := c.do(cmd, http.MethodGet, withQuery("/api/v1/alerts", q), nil, &res)
			if err != nil {
				return err
			}
			return c.print(cmd, raw, []string{"ID", "STATE", "SEVERITY", "RULE", "SUMMARY", "LABELS", "SINCE"}, rows(res.Alerts, func(a map[string]any) []string {
				return []string{str(a["id"]), str(a["state"]), str(a["severity"]), firstOf(a["rule_id"], labelOf(a, "alertname")), str(a["summary"]), labelsStr(a["labels"]), str(a["started_at"])}
			}))
		},
	}
	alerts.Flags().String("state", "", "state filter: pending, active, acknowledged, suppressed, resolved, all")
	alerts.Flags().String("severity", "", "severity filter")
	alerts.Flags().String("rule", "", "rule id filter")

	ack := &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge an alert (by id or fingerprint)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			by, _ := cmd.Flags().GetString("by")
			comment, _ := cmd.Flags().GetString("comment")
			if by == "" {
				by = c.getenv("USER")
			}
			return c.alertAction(cmd, args[0], "ack", map[string]string{"by": by, "comment": comment})
		},
	}
	ack.Flags().String("by", "", "who acknowledges (default $USER)")
	ack.Flags().String("comment", "", "comment")

	resolve := &cobra.Command{
		Use:   "resolve ID",
		Short: "Resolve an alert by hand",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			by, _ := cmd.Flags().GetString("by")
			return c.alertAction(cmd, args[0], "resolve", map[string]string{"by": by})
		},
	}
	resolve.Flags().String("by", "", "who resolves")

	fire := &cobra.Command{
		Use:   "fire",
		Short: "Push an alert evaluated elsewhere",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sev, _ := cmd.Flags().GetString("severity")
			sum, _ := cmd.Flags().GetString("summary")
			desc, _ := cmd.Flags().GetString("description")
			lbls, _ := cmd.Flags().GetStringArray("label")
			labels, err := parseLabels(lbls)
			if err != nil {
				return err
			}
			if _, ok := labels["alertname"]; !ok {
				labels["alertname"] = "manual"
			}
			body := []map[string]any{{"labels": labels, "severity": sev, "summary": sum, "description": desc}}
			var res map[string]any
			raw, err := c.do(cmd, http.MethodPost, "/api/v1/alerts", body, &res)
			if err != nil {
				return err
			}
			list, _ := res["alerts"].([]any)
			return c.print(cmd, raw, []string{"ID", "FINGERPRINT", "STATE"}, rows(toMaps(list), func(a map[string]any) []string {
				return []string{str(a["id"]), str(a["fingerprint"]), str(a["state"])}
			}))
		},
	}
	fire.Flags().String("severity", "medium", "critical, high, medium, low or info")
	fire.Flags().String("summary", "", "summary text")
	fire.Flags().String("description", "", "description text")
	fire.Flags().StringArray("label", nil, "label k=v (repeatable)")

	push := &cobra.Command{
		Use:   "push METRIC VALUE",
		Short: "Push a metric sample",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := strconv.ParseFloat(strings.TrimSpace(args[1]), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("VALUE %q is not a finite number", args[1])
			}
			lbls, _ := cmd.Flags().GetStringArray("label")
			labels, err := parseLabels(lbls)
			if err != nil {
				return err
			}
			body := []map[string]any{{"name": args[0], "value": v, "labels": labels}}
			var res map[string]any
			raw, err := c.do(cmd, http.MethodPost, "/api/v1/metrics", body, &res)
			if err != nil {
				return err
			}
			return c.print(cmd, raw, []string{"ACCEPTED"}, [][]string{{str(res["accepted"])}})
		},
	}
	push.Flags().StringArray("label", nil, "label k=v (repeatable)")

	channels := &cobra.Command{
		Use:   "channels",
		Short: "List channels with their delivery health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var res struct {
				Channels []map[string]any `json:"channels"`
			}
			raw, err := c.do(cmd, http.MethodGet, "/api/v1/channels", nil, &res)
			if err != nil {
				return err
			}
			return c.print(cmd, raw, []string{"NAME", "TYPE", "HEALTHY", "CIRCUIT", "QUEUED", "PENDING", "SENT", "FAILED", "LAST ERROR"}, rows(res.Channels, func(a map[string]any) []string {
				return []string{str(a["name"]), str(a["type"]), str(a["healthy"]), str(a["circuit"]), str(a["queued"]), str(a["pending"]), str(a["sent"]), str(a["failed"]), str(a["last_error"])}
			}))
		},
	}

	deliveries := &cobra.Command{
		Use:   "deliveries",
		Short: "Show the delivery log (attempts and decisions)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if v, _ := cmd.Flags().GetString("alert"); v != "" {
				q.Set("alert", v)
			}
			if v, _ := cmd.Flags().GetString("channel"); v != "" {
				q.Set("channel", v)
			}
			var res struct {
				Deliveries []map[string]any `json:"deliveries"`
			}
			raw, err := c.do(cmd, http.MethodGet, withQuery("/api/v1/deliveries", q), nil, &res)
			if err != nil {
				return err
			}
			return c.print(cmd, raw, []string{"AT", "CHANNEL", "EVENT", "OUTCOME", "ATTEMPT", "STATUS", "LATENCY MS", "DETAIL"}, rows(res.Deliveries, func(a map[string]any) []string {
				return []string{str(a["at"]), str(a["channel"]), str(a["event"]), str(a["outcome"]), str(a["attempt"]), str(a["status_code"]), str(a["latency_ms"]), strings.TrimSpace(str(a["error"]) + " " + str(a["detail"]))}
			}))
		},
	}
	deliveries.Flags().String("alert", "", "alert id or fingerprint")
	deliveries.Flags().String("channel", "", "channel name")

	root.AddCommand(alerts, ack, resolve, fire, push, channels, deliveries, newSilenceCmd(c))
}

func newSilenceCmd(c *client) *cobra.Command {
	sil := &cobra.Command{Use: "silence", Short: "Add, list and expire silences"}
	add := &cobra.Command{
		Use:   "add MATCHER...",
		Short: `Silence alerts matching every matcher (name=value, name!=value, name=~regex, name!~regex)`,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dur, _ := cmd.Flags().GetDuration("duration")
			by, _ := cmd.Flags().GetString("by")
			comment, _ := cmd.Flags().GetString("comment")
			if by == "" {
				by = c.getenv("USER")
			}
			var ms []map[string]string
			for _, a := range args {
				m, err := splitMatcher(a)
				if err != nil {
					return err
				}
				ms = append(ms, m)
			}
			body := map[string]any{"matchers": ms, "duration": dur.String(), "created_by": by, "comment": comment}
			var res map[string]any
			raw, err := c.do(cmd, http.MethodPost, "/api/v1/silences", body, &res)
			if err != nil {
				return err
			}
			return c.print(cmd, raw, []string{"ID", "ENDS AT"}, [][]string{{str(res["id"]), str(res["ends_at"])}})
		},
	}
	add.Flags().Duration("duration", 2*time.Hour, "how long the silence lasts")
	add.Flags().String("by", "", "who silences (default $USER)")
	add.Flags().String("comment", "", "why")
	list := &cobra.Command{
		Use:   "list",
		Short: "List silences in force (--all for expired ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			all, _ := cmd.Flags().GetBool("all")
			var res struct {
				Silences []map[string]any `json:"silences"`
			}
			raw, err := c.do(cmd, http.MethodGet, fmt.Sprintf("/api/v1/silences?all=%t", all), nil, &res)
			if err != nil {
				return err
			}
			return c.print(cmd, raw, []string{"ID", "MATCHERS", "STARTS AT", "ENDS AT", "BY", "COMMENT"}, rows(res.Silences, func(a map[string]any) []string {
				var ms []string
				for _, m := range toMaps(anySlice(a["matchers"])) {
					ms = append(ms, str(m["name"])+str(m["op"])+`"`+str(m["value"])+`"`)
				}
				return []string{str(a["id"]), strings.Join(ms, ","), str(a["starts_at"]), str(a["ends_at"]), str(a["created_by"]), str(a["comment"])}
			}))
		},
	}
	list.Flags().Bool("all", false, "include expired silences")
	expire := &cobra.Command{
		Use:   "expire ID",
		Short: "End a silence now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var res map[string]any
			raw, err := c.do(cmd, http.MethodDelete, "/api/v1/silences/"+url.PathEscape(args[0]), nil, &res)
			if err != nil {
				return err
			}
			return c.print(cmd, raw, []string{"ID", "ENDS AT"}, [][]string{{str(res["id"]), str(res["ends_at"])}})
		},
	}
	sil.AddCommand(add, list, expire)
	return sil
}

func (c *client) alertAction(cmd *cobra.Command, id, action string, body any) error {
	var res map[string]any
	raw, err := c.do(cmd, http.MethodPost, "/api/v1/alerts/"+url.PathEscape(id)+"/"+action, body, &res)
	if err != nil {
		return err
	}
	return c.print(cmd, raw, []string{"ID", "STATE", "ACKNOWLEDGED BY", "SUMMARY"}, [][]string{{str(res["id"]), str(res["state"]), str(res["acknowledged_by"]), str(res["summary"])}})
}

// do sends a request and decodes the answer; API errors become Go errors
// carrying the server's message and field.
func (c *client) do(cmd *cobra.Command, method, path string, body, out any) ([]byte, error) {
	// Checked before the request, so a bad --output changes nothing.
	if c.output != "table" && c.output != "json" && c.output != "" {
		return nil, fmt.Errorf("--output: want table or json, got %q", c.output)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(cmd.Context(), method, strings.TrimRight(c.base, "/")+path, rd)
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// The token is read per request, not in cobra.OnInitialize: that hook
	// is process-global and would run for every root command ever built.
	if token := c.getenv("KLAXON_API_TOKEN"); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach klaxon at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
			Field string `json:"field"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			if e.Field != "" {
				return nil, fmt.Errorf("%s (%d): %s: %s", method+" "+path, resp.StatusCode, e.Field, e.Error)
			}
			return nil, fmt.Errorf("%s (%d): %s", method+" "+path, resp.StatusCode, e.Error)
		}
		return nil, fmt.Errorf("%s: status %d", method+" "+path, resp.StatusCode)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("decode answer: %w", err)
		}
	}
	return raw, nil
}

func (c *client) print(cmd *cobra.Command, raw []byte, header []string, rows [][]string) error {
	w := cmd.OutOrStdout()
	switch c.output {
	case "json":
		// The API answers compact JSON; people read it indented.
		var b bytes.Buffer
		if err := json.Indent(&b, raw, "", "  "); err != nil {
			_, err = w.Write(raw)
			return err
		}
		if b.Len() > 0 && b.Bytes()[b.Len()-1] != '\n' {
			b.WriteByte('\n')
		}
		_, err := w.Write(b.Bytes())
		return err
	case "table", "":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	}
	return fmt.Errorf("--output: want table or json, got %q", c.output)
}

// withQuery appends q to path, leaving out an empty "?".
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func rows(list []map[string]any, f func(map[string]any) []string) [][]string {
	out := make([][]string, 0, len(list))
	for _, m := range list {
		out = append(out, f(m))
	}
	return out
}

func toMaps(list []any) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func anySlice(v any) []any { s, _ := v.([]any); return s }

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}

func firstOf(vals ...any) string {
	for _, v := range vals {
		if s := str(v); s != "" {
			return s
		}
	}
	return ""
}

func labelOf(a map[string]any, name string) any {
	if m, ok := a["labels"].(map[string]any); ok {
		return m[name]
	}
	return nil
}

func labelsStr(v any) string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + str(m[k])
	}
	return strings.Join(parts, ",")
}

func parseLabels(in []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--label %q: want k=v", kv)
		}
		out[k] = v
	}
	return out, nil
}

// splitMatcher splits at the first operator: the name cannot hold '=',
// '!' or '~', the value may (msg!=a=b is msg, !=, a=b).
func splitMatcher(s string) (map[string]string, error) {
	i := strings.IndexAny(s, "=!")
	if i > 0 {
		for _, op := range []string{"!~", "=~", "!=", "="} {
			if strings.HasPrefix(s[i:], op) {
				return map[string]string{"name": s[:i], "op": op, "value": strings.Trim(s[i+len(op):], `"`)}, nil
			}
		}
	}
	return nil, fmt.Errorf("matcher %q: want name=value, name!=value, name=~regex or name!~regex", s)
}
