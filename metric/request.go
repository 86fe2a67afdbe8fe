package metric

import (
	"hash/maphash"
	"maps"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// RequestRecorder records requests of one label set into request_count,
// errors and response_time. Record is safe for concurrent use, lock-free and
// allocation-free.
type RequestRecorder struct {
	labels alert.Labels
	reqs   *series
	errs   *series
	rt     *series
}

// Record counts one request that took d, and one error if failed.
// response_time records d in milliseconds.
func (q *RequestRecorder) Record(d time.Duration, failed bool) {
	sec := q.reqs.clk.sec()
	q.reqs.fineBucket(sec).inc.Add(1)
	if failed {
		q.errs.fineBucket(sec).inc.Add(1)
	}
	ms := float64(d) / float64(time.Millisecond)
	q.rt.setLast(ms)
	q.rt.observeAt(ms, sec)
}

// Requests returns the request recorder of labels, creating its series if
// needed. It panics if labels are invalid or the built-in names were
// registered as other kinds; see RequestsSafely.
func (r *Registry) Requests(labels alert.Labels) *RequestRecorder {
	return must(r.RequestsSafely(labels))
}

// RequestsSafely is Requests returning an error instead of panicking.
func (r *Registry) RequestsSafely(labels alert.Labels) (*RequestRecorder, error) {
	h := labelsHash(labels)
	if q := r.lookupRequests(h, labels); q != nil {
		return q, nil
	}
	reqs, err := r.getSeries(NameRequestCount, KindCounter, labels, seriesOpts{})
	if err != nil {
		return nil, err
	}
	errs, err := r.getSeries(NameErrors, KindCounter, labels, seriesOpts{})
	if err != nil {
		return nil, err
	}
	rt, err := r.getSeries(NameResponseTime, KindHistogram, labels, seriesOpts{dist: true})
	if err != nil {
		return nil, err
	}
	r.reqMu.Lock()
	defer r.reqMu.Unlock()
	if q := r.lookupRequests(h, labels); q != nil {
		return q, nil
	}
	q := &RequestRecorder{labels: reqs.labels, reqs: reqs, errs: errs, rt: rt}
	next := map[uint64][]*RequestRecorder{}
	if old := r.requests.Load(); old != nil {
		maps.Copy(next, *old)
	}
	next[h] = append(next[h][:len(next[h]):len(next[h])], q)
	r.requests.Store(&next)
	return q, nil
}

func (r *Registry) lookupRequests(h uint64, labels alert.Labels) *RequestRecorder {
	idx := r.requests.Load()
	if idx == nil {
		return nil
	}
	for _, q := range (*idx)[h] {
		if sameLabels(q.labels, labels) {
			return q
		}
	}
	return nil
}

// RecordRequest records one request for labels: request_count, errors if
// failed, and response_time in milliseconds. Once the label set has been
// seen it allocates nothing; hold a RequestRecorder (Requests) to also skip
// the label lookup.
func (r *Registry) RecordRequest(labels alert.Labels, d time.Duration, failed bool) {
	q := r.lookupRequests(labelsHash(labels), labels)
	if q == nil {
		var err error
		if q, err = r.RequestsSafely(labels); err != nil {
			return
		}
	}
	q.Record(d, failed)
}

func sameLabels(a, b alert.Labels) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

var labelSeed = maphash.MakeSeed()

// labelsHash hashes a label set independently of map order, without
// allocating: the sum of the mixed hashes of each pair.
func labelsHash(l alert.Labels) uint64 {
	var sum uint64
	for k, v := range l {
		h := maphash.String(labelSeed, k)
		h ^= maphash.String(labelSeed, v) * 0x9e3779b97f4a7c15
		h ^= h >> 31
		h *= 0xbf58476d1ce4e5b9
		sum += h ^ h>>29
	}
	return sum
}

// queryErrorRate derives error_rate for every request_count series matching
// sel: errors / requests over the window, absent without requests.
func (r *Registry) queryErrorRate(sel alert.Matchers, window time.Duration, now time.Time) []Result {
	reqs := r.family(NameRequestCount)
	if reqs == nil {
		return nil
	}
	if window <= 0 {
		window = r.opts.DefaultWindow
	}
	sp := r.span(Sum, window, now)
	errFam := r.family(NameErrors)
	var out []Result
	for _, s := range reqs.candidates(sel) {
		if !sel.Matches(s.labels) {
			continue
		}
		a := s.window(sp)
		total := float64(a.inc) + a.sum
		if total == 0 {
			continue
		}
		var failed float64
		var e *series
		if q := r.lookupRequests(labelsHash(s.labels), s.labels); q != nil {
			e = q.errs
		} else {
			e = r.seriesOf(errFam, s.labels)
		}
		if e != nil {
			ea := e.window(sp)
			failed = float64(ea.inc) + ea.sum
		}
		out = append(out, Result{Labels: s.labels, Value: failed / total})
	}
	return out
}

// seriesOf finds the series of f with exactly labels.
func (r *Registry) seriesOf(f *family, labels alert.Labels) *series {
	if f == nil {
		return nil
	}
	for _, s := range f.list() {
		if sameLabels(s.labels, labels) {
			return s
		}
	}
	return nil
}
