package scrape

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
	"github.com/klaxonhq/klaxon/secret"
)

// Defaults of a Target.
const (
	DefaultInterval    = 15 * time.Second
	DefaultTimeout     = 10 * time.Second
	DefaultSampleLimit = 10000
	// maxPage bounds the page read: an exporter gone wrong must not fill
	// klaxon's memory.
	maxPage = 64 << 20
)

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Target is one metrics page read every Interval.
type Target struct {
	// URL of the page (http or https); required.
	URL string
	// Interval between scrapes; default DefaultInterval.
	Interval time.Duration
	// Timeout of one scrape; default DefaultTimeout, at most Interval.
	Timeout time.Duration
	// Labels are added to every sample and to up; they win over a sample's
	// own label of the same name. "instance" defaults to the URL's host.
	Labels alert.Labels
	// Metrics, when set, keeps only these names (a summary's or histogram's
	// _sum, _count and _bucket series count under their own names).
	Metrics []string
	// SampleLimit fails a scrape (up = 0) that reads more samples than
	// this, before any is recorded; default DefaultSampleLimit.
	SampleLimit int
	// BearerToken, when set, is sent as Authorization: Bearer.
	BearerToken secret.String
}

// Scraper reads one Target into a registry. Build it with New, start it
// with Run.
type Scraper struct {
	t Target
	// display is the URL without its query, which may carry a token: the
	// form errors and logs show.
	display string
	reg     *metric.Registry
	client  *http.Client
	log     *slog.Logger
	keep    map[string]bool

	// mu serialises scrapes; it guards what follows.
	mu sync.Mutex
	// base is each counter's last raw value, by series key, as of the last
	// good scrape.
	base map[string]float64
	// scraped is true after the first good scrape: from then on a counter
	// that appears counts its whole value (it started at zero since).
	scraped bool
	// warned holds the names already logged as refused by the registry.
	warned map[string]bool
}

// New checks t and returns its scraper. client may be nil (a client with
// t.Timeout), log too.
func New(t Target, reg *metric.Registry, client *http.Client, log *slog.Logger) (*Scraper, error) {
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("scrape: url: want an http(s) URL with a host")
	}
	if u.User != nil {
		return nil, errors.New("scrape: url: must not contain user info (use a bearer token)")
	}
	switch {
	case t.Interval < 0:
		return nil, errors.New("scrape: interval: must not be negative")
	case t.Timeout < 0:
		return nil, errors.New("scrape: timeout: must not be negative")
	case t.SampleLimit < 0:
		return nil, errors.New("scrape: sample limit: must not be negative")
	}
	for k := range t.Labels {
		if !labelName.MatchString(k) || strings.HasPrefix(k, "__") {
			return nil, fmt.Errorf("scrape: labels: invalid name %q (want [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", k)
		}
	}
	t.Interval = cmp.Or(t.Interval, DefaultInterval)
	t.Timeout = min(cmp.Or(t.Timeout, DefaultTimeout), t.Interval)
	t.SampleLimit = cmp.Or(t.SampleLimit, DefaultSampleLimit)
	labels := make(alert.Labels, len(t.Labels)+1)
	labels["instance"] = u.Host
	for k, v := range t.Labels {
		labels[k] = v
	}
	t.Labels = labels
	if client == nil {
		// A redirect is an error (the status shows in up = 0): following
		// one would send the token wherever the page points.
		client = &http.Client{Timeout: t.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scraper{t: t, display: u.Scheme + "://" + u.Host + u.Path, reg: reg, client: client, log: log,
		base: map[string]float64{}, warned: map[string]bool{}}
	if len(t.Metrics) > 0 {
		s.keep = map[string]bool{}
		for _, m := range t.Metrics {
			s.keep[m] = true
		}
	}
	return s, nil
}

// Run scrapes at once, then every Interval, until ctx ends. Failures are
// logged and show as up = 0.
func (s *Scraper) Run(ctx context.Context) {
	t := time.NewTicker(s.t.Interval)
	defer t.Stop()
	failing := false
	for {
		n, err := s.Scrape(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			s.log.Warn("scrape failed", "target", s.display, "err", err)
			failing = true
		case err == nil && failing:
			s.log.Info("scrape works again", "target", s.display, "samples", n)
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Scrape reads the page once and records its samples, then up (1 or 0),
// scrape_duration_seconds and scrape_samples_scraped with the target's
// labels. It returns how many samples it recorded.
func (s *Scraper) Scrape(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	samples, err := s.fetch(ctx)
	if err == nil && s.keep != nil {
		samples = slices.DeleteFunc(samples, func(sm Sample) bool { return !s.keep[sm.Name] })
	}
	if err == nil && len(samples) > s.t.SampleLimit {
		err = fmt.Errorf("%d samples, more than the limit of %d (set metrics: to the ones rules use)", len(samples), s.t.SampleLimit)
	}
	up := 0.0
	n := 0
	if err == nil {
		up = 1
		n = s.record(samples)
	}
	s.gauge("up", up)
	s.gauge("scrape_duration_seconds", time.Since(start).Seconds())
	s.gauge("scrape_samples_scraped", float64(n))
	return n, err
}

func (s *Scraper) fetch(ctx context.Context) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, s.t.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.t.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.display, err)
	}
	// The text format; exporters that also speak OpenMetrics or protobuf
	// negotiate down to it.
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	req.Header.Set("User-Agent", "klaxon-scrape")
	if !s.t.BearerToken.IsZero() {
		req.Header.Set("Authorization", "Bearer "+s.t.BearerToken.Reveal())
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// *url.Error repeats the whole URL, query included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("scrape %s: %w", s.display, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("scrape %s: status %s", s.display, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "text/plain") {
		return nil, fmt.Errorf("scrape %s: content type %q is not the Prometheus text format", s.display, ct)
	}
	body := io.LimitReader(resp.Body, maxPage+1)
	samples, err := Parse(&countingReader{r: body})
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.display, err)
	}
	return samples, nil
}

// record writes samples into the registry and returns how many it took.
// A page label that the target's labels also set keeps its value as
// exported_NAME (as Prometheus does), so two series of the page never
// become one; a series the page lists twice counts once.
func (s *Scraper) record(samples []Sample) int {
	seen := make(map[string]bool, len(s.base))
	n := 0
	for _, sm := range samples {
		labels := make(alert.Labels, len(sm.Labels)+len(s.t.Labels))
		for k, v := range sm.Labels {
			if _, clash := s.t.Labels[k]; clash {
				k = "exported_" + k
			}
			labels[k] = v
		}
		for k, v := range s.t.Labels {
			labels[k] = v
		}
		key := seriesKey(sm.Name, labels)
		if seen[key] {
			continue
		}
		seen[key] = true
		var err error
		if sm.Counter {
			err = s.counter(sm.Name, labels, key, sm.Value)
		} else {
			// Not a carried gauge: windows hold what was read, so
			// absent(x[2m]) sees a series that left the page.
			// (At the registry's now: the zero time.)
			err = s.reg.Push(sm.Name, labels, sm.Value, time.Time{})
		}
		if err != nil {
			// A name the registry refuses (a kind conflict with a metric
			// recorded in Go, say) is skipped, and said once.
			if !s.warned[sm.Name] {
				s.warned[sm.Name] = true
				s.log.Warn("scrape: metric skipped", "target", s.display, "metric", sm.Name, "err", err)
			}
			continue
		}
		n++
	}
	// Counters that left the page are forgotten: one that comes back
	// counts from its new value.
	for k := range s.base {
		if !seen[k] {
			delete(s.base, k)
		}
	}
	s.scraped = true
	return n
}

// counter adds what the exporter's counter grew since the last scrape.
func (s *Scraper) counter(name string, labels alert.Labels, key string, v float64) error {
	c, err := s.reg.CounterSafely(name, labels)
	if err != nil {
		return err
	}
	last, seen := s.base[key]
	s.base[key] = v
	switch {
	case !seen && !s.scraped:
		// The first read: the exporter's total so far is no increase seen
		// here, only the baseline.
	case !seen:
		// It appeared since the last read (a first error, a new label
		// value): it counted from zero meanwhile.
		c.Add(v)
	case v >= last:
		c.Add(v - last)
	default:
		c.Add(v) // reset: it counts again from zero
	}
	return nil
}

func (s *Scraper) gauge(name string, v float64) {
	if g, err := s.reg.GaugeSafely(name, s.t.Labels); err == nil {
		g.Set(v)
	}
}

func seriesKey(name string, l alert.Labels) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(l[k])
	}
	return b.String()
}

// countingReader fails a page larger than maxPage.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > maxPage {
		return n, fmt.Errorf("page larger than %d MiB", maxPage>>20)
	}
	return n, err
}
