package scrape_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
	"github.com/klaxonhq/klaxon/metric/scrape"
	"github.com/klaxonhq/klaxon/secret"
)

const page = `# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 2.5
# TYPE http_requests_total counter
http_requests_total{code="200",method="get"} 100
http_requests_total{code="500",method="get"} 4
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.05
rpc_seconds{quantile="0.99"} NaN
rpc_seconds_sum 12.5
rpc_seconds_count 250
# TYPE req_size_bytes histogram
req_size_bytes_bucket{le="100"} 3
req_size_bytes_bucket{le="+Inf"} 5
req_size_bytes_sum 700
req_size_bytes_count 5
temperature_celsius{room="a"} 21
`

func TestParse_EveryType(t *testing.T) {
	t.Parallel()
	got, err := scrape.Parse(strings.NewReader(page))
	require.NoError(t, err)
	by := map[string]scrape.Sample{}
	for _, s := range got {
		by[s.Name+labelText(s.Labels)] = s
	}
	want := map[string]struct {
		v       float64
		counter bool
	}{
		"node_load1": {2.5, false},
		"http_requests_total{code=200,method=get}": {100, true},
		"http_requests_total{code=500,method=get}": {4, true},
		"rpc_seconds{quantile=0.5}":                {0.05, false},
		"rpc_seconds_sum":                          {12.5, true},
		"rpc_seconds_count":                        {250, true},
		"req_size_bytes_bucket{le=100}":            {3, true},
		"req_size_bytes_bucket{le=+Inf}":           {5, true},
		"req_size_bytes_sum":                       {700, true},
		"req_size_bytes_count":                     {5, true},
		"temperature_celsius{room=a}":              {21, false},
	}
	require.Len(t, by, len(want), "the NaN quantile is left out: %v", by)
	for k, w := range want {
		s, ok := by[k]
		require.True(t, ok, "missing %s", k)
		require.Equal(t, w.v, s.Value, k)
		require.Equal(t, w.counter, s.Counter, k)
	}
}

func TestParse_BadPage(t *testing.T) {
	t.Parallel()
	_, err := scrape.Parse(strings.NewReader("node_load1 two\n"))
	require.ErrorContains(t, err, "parse metrics page")
	require.ErrorContains(t, err, "line 1")
}

func labelText(l alert.Labels) string {
	if len(l) == 0 {
		return ""
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(k + "=" + l[k])
	}
	b.WriteString("}")
	return b.String()
}

// exporter serves a page it can change, and records the last request.
type exporter struct {
	mu     sync.Mutex
	body   string
	status int
	auth   string
}

func (e *exporter) set(body string) {
	e.mu.Lock()
	e.body = body
	e.mu.Unlock()
}

func (e *exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.auth = r.Header.Get("Authorization")
	if e.status != 0 {
		w.WriteHeader(e.status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(e.body))
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// query asks reg for name (Last, or fn over window) among series with
// job=job when job is set.
func query(t *testing.T, reg *metric.Registry, name, job string, fn metric.Func, window time.Duration, now time.Time) []metric.Result {
	t.Helper()
	var sel alert.Matchers
	if job != "" {
		m, err := alert.NewMatcher("job", "=", job)
		require.NoError(t, err)
		sel = alert.Matchers{m}
	}
	return reg.Query(name, sel, fn, window, now)
}

// A scraped gauge reads as its value with the target's labels; a counter
// counts what it grew between scrapes (the first scrape only sets the
// baseline), and a reset counts from zero again; up says whether the page
// was read.
func TestScraper_GaugesCountersAndUp(t *testing.T) {
	t.Parallel()
	exp := &exporter{body: "g 1\n# TYPE c counter\nc 100\n"}
	srv := httptest.NewServer(exp)
	defer srv.Close()
	clk := &clock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	reg := metric.NewRegistry(&metric.Options{Now: clk.now})
	s, err := scrape.New(scrape.Target{URL: srv.URL + "/metrics", Labels: alert.Labels{"job": "node"},
		BearerToken: secret.New("t0ken")}, reg, nil, nil)
	require.NoError(t, err)
	ctx := context.Background()

	n, err := s.Scrape(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, "Bearer t0ken", exp.auth)
	host := strings.TrimPrefix(srv.URL, "http://")
	res := query(t, reg, "g", "node", metric.Last, 0, clk.t)
	require.Len(t, res, 1)
	require.Equal(t, 1.0, res[0].Value)
	require.Equal(t, alert.Labels{"job": "node", "instance": host}, res[0].Labels)
	require.Equal(t, 1.0, query(t, reg, "up", "node", metric.Last, 0, clk.t)[0].Value)

	clk.t = clk.t.Add(15 * time.Second)
	exp.set("g 2\n# TYPE c counter\nc 130\n")
	_, err = s.Scrape(ctx)
	require.NoError(t, err)
	clk.t = clk.t.Add(15 * time.Second)
	exp.set("g 3\n# TYPE c counter\nc 5\n") // the exporter restarted
	_, err = s.Scrape(ctx)
	require.NoError(t, err)
	res = query(t, reg, "c", "", metric.Sum, time.Minute, clk.t)
	require.Len(t, res, 1)
	require.Equal(t, 35.0, res[0].Value, "30 between the first two scrapes, then 5 after the reset")
	require.Equal(t, 3.0, query(t, reg, "g", "", metric.Last, 0, clk.t)[0].Value)

	exp.mu.Lock()
	exp.status = http.StatusInternalServerError
	exp.mu.Unlock()
	_, err = s.Scrape(ctx)
	require.ErrorContains(t, err, "status 500")
	require.Equal(t, 0.0, query(t, reg, "up", "", metric.Last, 0, clk.t)[0].Value)
}

// metrics: keeps only the named metrics, and a page over the sample limit
// records nothing and reads as down.
func TestScraper_FilterAndLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&exporter{body: page})
	defer srv.Close()
	reg := metric.NewRegistry(nil)
	s, err := scrape.New(scrape.Target{URL: srv.URL, Metrics: []string{"node_load1", "rpc_seconds_count"}}, reg, nil, nil)
	require.NoError(t, err)
	n, err := s.Scrape(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Empty(t, query(t, reg, "temperature_celsius", "", metric.Last, 0, time.Now()))

	reg2 := metric.NewRegistry(nil)
	s2, err := scrape.New(scrape.Target{URL: srv.URL, SampleLimit: 5}, reg2, nil, nil)
	require.NoError(t, err)
	_, err = s2.Scrape(context.Background())
	require.ErrorContains(t, err, "more than the limit of 5")
	require.Empty(t, query(t, reg2, "node_load1", "", metric.Last, 0, time.Now()))
	require.Equal(t, 0.0, query(t, reg2, "up", "", metric.Last, 0, time.Now())[0].Value)
}

func TestNew_RefusesBadURLs(t *testing.T) {
	t.Parallel()
	reg := metric.NewRegistry(nil)
	for _, u := range []string{"", "ftp://x/metrics", "http:///metrics", "http://bob:pw@host/metrics"} {
		_, err := scrape.New(scrape.Target{URL: u}, reg, nil, nil)
		require.Error(t, err, u)
		require.NotContains(t, err.Error(), "pw", "the error repeats a password")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(page)
	f.Add("# TYPE x histogram\nx_bucket{le=\"1\"} 1\nx_bucket{le=\"+Inf\"} 2\nx_count 2\nx_sum 3\n")
	f.Add("a{b=\"c\\\"d\"} 1 1700000000000\n")
	f.Fuzz(func(t *testing.T, s string) {
		samples, err := scrape.Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, sm := range samples {
			if sm.Name == "" {
				t.Fatalf("a sample without a name from %q", s)
			}
		}
	})
}

// A token in the URL's query never shows in errors.
func TestScrape_ErrorsHideTheQuery(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&exporter{status: http.StatusForbidden})
	defer srv.Close()
	s, err := scrape.New(scrape.Target{URL: srv.URL + "/metrics?token=s3cret"}, metric.NewRegistry(nil), nil, nil)
	require.NoError(t, err)
	_, err = s.Scrape(context.Background())
	require.ErrorContains(t, err, "status 403")
	require.NotContains(t, err.Error(), "s3cret")

	s, err = scrape.New(scrape.Target{URL: "http://127.0.0.1:1/metrics?token=s3cret", Timeout: time.Second}, metric.NewRegistry(nil), nil, nil)
	require.NoError(t, err)
	_, err = s.Scrape(context.Background())
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
}

// Page labels that the target's labels also set keep their values as
// exported_NAME, so distinct series stay distinct (and unchanged counters
// show no increase); a counter that appears after the first read counts
// its whole value; a page without a final newline reads.
func TestScraper_ClashingLabelsAndNewCounters(t *testing.T) {
	t.Parallel()
	exp := &exporter{body: "# TYPE c counter\nc{instance=\"a\"} 100\nc{instance=\"b\"} 5"}
	srv := httptest.NewServer(exp)
	defer srv.Close()
	clk := &clock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	reg := metric.NewRegistry(&metric.Options{Now: clk.now})
	s, err := scrape.New(scrape.Target{URL: srv.URL}, reg, nil, nil)
	require.NoError(t, err)
	ctx := context.Background()
	for range 3 {
		n, err := s.Scrape(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		clk.t = clk.t.Add(10 * time.Second)
	}
	res := query(t, reg, "c", "", metric.Sum, time.Minute, clk.t)
	require.Empty(t, res, "an unchanged page showed an increase: %v", res)
	all := reg.Query("c", nil, metric.Last, 0, clk.t)
	require.Len(t, all, 2)
	for _, r := range all {
		require.Contains(t, []string{"a", "b"}, r.Labels["exported_instance"])
		require.Equal(t, strings.TrimPrefix(srv.URL, "http://"), r.Labels["instance"])
	}

	exp.set("# TYPE c counter\nc{instance=\"a\"} 100\nc{instance=\"b\"} 5\nc{instance=\"z\"} 7\n")
	_, err = s.Scrape(ctx)
	require.NoError(t, err)
	res = query(t, reg, "c", "", metric.Sum, time.Minute, clk.t)
	require.Len(t, res, 1)
	require.Equal(t, 7.0, res[0].Value, "the new series counted from zero")
}

func TestParse_FloatHistogramCounts(t *testing.T) {
	t.Parallel()
	got, err := scrape.Parse(strings.NewReader("# TYPE h histogram\nh_bucket{le=\"1\"} 1.5\nh_bucket{le=\"+Inf\"} 2.5\nh_sum 3\nh_count 2.5\n"))
	require.NoError(t, err)
	vals := map[string]float64{}
	for _, s := range got {
		vals[s.Name+labelText(s.Labels)] = s.Value
	}
	require.Equal(t, map[string]float64{"h_bucket{le=1}": 1.5, "h_bucket{le=+Inf}": 2.5, "h_sum": 3, "h_count": 2.5}, vals)
}

// The sample limit counts what metrics: keeps; a redirect fails the read.
func TestScraper_LimitAfterFilterAndNoRedirects(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&exporter{body: "a 1\nb 2\nc 3\n"})
	defer srv.Close()
	s, err := scrape.New(scrape.Target{URL: srv.URL, Metrics: []string{"a"}, SampleLimit: 2}, metric.NewRegistry(nil), nil, nil)
	require.NoError(t, err)
	n, err := s.Scrape(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)

	moved := httptest.NewServer(http.RedirectHandler(srv.URL, http.StatusFound))
	defer moved.Close()
	s, err = scrape.New(scrape.Target{URL: moved.URL, BearerToken: secret.New("t")}, metric.NewRegistry(nil), nil, nil)
	require.NoError(t, err)
	_, err = s.Scrape(context.Background())
	require.ErrorContains(t, err, "302")
}

func TestNew_RefusesBadSettings(t *testing.T) {
	t.Parallel()
	reg := metric.NewRegistry(nil)
	for _, tg := range []scrape.Target{
		{URL: "http://h/m", Interval: -time.Second},
		{URL: "http://h/m", Timeout: -time.Second},
		{URL: "http://h/m", SampleLimit: -1},
		{URL: "http://h/m", Labels: alert.Labels{"__x": "y"}},
		{URL: "http://h/m", Labels: alert.Labels{"bad-name": "y"}},
	} {
		_, err := scrape.New(tg, reg, nil, nil)
		require.Error(t, err, "%+v", tg)
	}
}
