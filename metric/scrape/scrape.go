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
	"slices"
	"strings"
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
	// base is each counter's last raw value, by series key; only Scrape
	// (one goroutine) touches it.
	base map[string]float64
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
		client = &http.Client{Timeout: t.Timeout}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scraper{t: t, display: u.Scheme + "://" + u.Host + u.Path, reg: reg, client: client, log: log, base: map[string]float64{}}
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
	start := time.Now()
	samples, err := s.fetch(ctx)
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
func (s *Scraper) record(samples []Sample) int {
	n := 0
	for _, sm := range samples {
		if s.keep != nil && !s.keep[sm.Name] {
			continue
		}
		labels := sm.Labels
		if labels == nil {
			labels = make(alert.Labels, len(s.t.Labels))
		}
		for k, v := range s.t.Labels {
			labels[k] = v
		}
		var err error
		if sm.Counter {
			err = s.counter(sm.Name, labels, sm.Value)
		} else {
			var g *metric.Gauge
			if g, err = s.reg.GaugeSafely(sm.Name, labels); err == nil {
				g.Set(sm.Value)
			}
		}
		if err != nil {
			// A name the registry cannot take (a kind conflict with a
			// metric recorded in Go, say) is skipped, not fatal.
			s.log.Debug("scrape: sample skipped", "target", s.display, "metric", sm.Name, "err", err)
			continue
		}
		n++
	}
	return n
}

// counter adds what the exporter's counter grew since the last scrape.
func (s *Scraper) counter(name string, labels alert.Labels, v float64) error {
	c, err := s.reg.CounterSafely(name, labels)
	if err != nil {
		return err
	}
	key := seriesKey(name, labels)
	last, seen := s.base[key]
	s.base[key] = v
	switch {
	case !seen:
		// Baseline only: the exporter's total so far is no increase seen here.
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
