// Package klaxontest is the kit behind klaxon's end-to-end tests and its
// benchmark harness (cmd/klaxon-bench): a loopback webhook receiver that
// records every delivery and can inject faults, control of a `klaxon serve`
// child process (build, start, SIGKILL, restart), a small client of the HTTP
// API, and readers of a process's peak RSS and CPU time.
package klaxontest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	// The receiver shares the harness's two cores with klaxon: a decoder
	// that needs less CPU per body leaves more of them to what is measured.
	"github.com/segmentio/encoding/json"
)

// DefaultIDLabel is the label whose value names an alert in the receiver's
// bookkeeping (ReceiverConfig.IDLabel).
const DefaultIDLabel = "id"

// TypeActive is the webhook event type of an alert's firing transition.
const TypeActive = "alert.active"

// Fault says how the receiver answers one call instead of 200 OK.
type Fault struct {
	// Status, when not 0, is the status answered; a non-2xx status does not
	// count as a delivery.
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Hold, when > 0, holds the request this long (or until the sender gives
	// up) and then answers 500: the way to make a sender time out.
	Hold time.Duration
}

// Call describes one request the receiver got, for a FaultFunc and the call
// log.
type Call struct {
	// WebhookID is the webhook-id header (the idempotency key).
	WebhookID string
	// Type is the body's "type" ("alert.active", ...).
	Type string
	// IDs are the values of the ID label of the alerts in the body.
	IDs []string
	// At is when the body was read.
	At time.Time
	// Status is the status answered (0 until answered).
	Status int
}

// FaultFunc picks the fault for one call; returning the zero Fault accepts it.
type FaultFunc func(c *Call) Fault

// Alert is the part of a webhook alert the receiver keeps.
type Alert struct {
	ID          string            `json:"id"`
	Fingerprint string            `json:"fingerprint"`
	State       string            `json:"state"`
	Sequence    int64             `json:"sequence"`
	Labels      map[string]string `json:"labels"`
}

// Delivery is one accepted (2xx) webhook call.
type Delivery struct {
	// WebhookID is the webhook-id header.
	WebhookID string
	// IdempotencyKey is the body's idempotency_key.
	IdempotencyKey string
	// Type is the body's event type.
	Type string
	// Alerts are the body's alerts.
	Alerts []Alert
	// At is when the body was read.
	At time.Time
	// Duplicate is true when an earlier call with the same webhook-id was
	// already accepted.
	Duplicate bool
}

// ReceiverConfig configures a Receiver. The zero value accepts every call.
type ReceiverConfig struct {
	// IDLabel is the label that names an alert; default "id".
	IDLabel string
	// Fault, when set, decides how each call is answered.
	Fault FaultFunc
	// OnDeliver, when set, is called (on the request's goroutine) for every
	// accepted call, after it is recorded.
	OnDeliver func(d *Delivery)
	// KeepCalls keeps a log of every call (Calls) and every accepted
	// delivery (Deliveries); default false.
	KeepCalls bool
}

// Receiver is a loopback webhook receiver. It records accepted deliveries by
// the ID label of their alerts and by webhook-id, so tests can ask which
// alerts arrived, how many calls were duplicates, and whether a duplicate
// carried the key of its original. Its methods are safe for concurrent use.
type Receiver struct {
	cfg ReceiverConfig
	srv *http.Server
	ln  net.Listener

	calls atomic.Int64

	mu         sync.Mutex
	changed    chan struct{}
	callLog    []*Call
	delivLog   []*Delivery
	accepted   int
	duplicates int
	byKey      map[string]int                       // webhook-id -> accepted calls
	byID       map[string]map[string]map[string]int // type -> id -> webhook-id -> accepted calls
	last       time.Time
	bodyErrors int
}

// NewReceiver starts a receiver on a free loopback port. Close stops it.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	if cfg.IDLabel == "" {
		cfg.IDLabel = DefaultIDLabel
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver listen: %w", err)
	}
	r := &Receiver{
		cfg:     cfg,
		ln:      ln,
		changed: make(chan struct{}),
		byKey:   map[string]int{},
		byID:    map[string]map[string]map[string]int{},
	}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// URL is the receiver's base URL ("http://127.0.0.1:PORT"); any path works.
func (r *Receiver) URL() string { return "http://" + r.ln.Addr().String() }

// Close stops the receiver at once.
func (r *Receiver) Close() error { return r.srv.Close() }

type body struct {
	Type           string  `json:"type"`
	IdempotencyKey string  `json:"idempotency_key"`
	Alerts         []Alert `json:"alerts"`
}

// ServeHTTP records one webhook call and answers it.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.calls.Add(1)
	raw, err := io.ReadAll(req.Body)
	at := time.Now()
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		r.mu.Lock()
		r.bodyErrors++
		r.mu.Unlock()
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	c := &Call{WebhookID: req.Header.Get("webhook-id"), Type: b.Type, At: at}
	for _, a := range b.Alerts {
		c.IDs = append(c.IDs, a.Labels[r.cfg.IDLabel])
	}
	var f Fault
	if r.cfg.Fault != nil {
		f = r.cfg.Fault(c)
	}
	switch {
	case f.Hold > 0:
		t := time.NewTimer(f.Hold)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
		}
		c.Status = http.StatusInternalServerError
	case f.Status != 0:
		c.Status = f.Status
	default:
		c.Status = http.StatusOK
	}
	if c.Status >= 200 && c.Status < 300 {
		d := &Delivery{WebhookID: c.WebhookID, IdempotencyKey: b.IdempotencyKey, Type: b.Type, Alerts: b.Alerts, At: at}
		r.record(c, d)
		if r.cfg.OnDeliver != nil {
			r.cfg.OnDeliver(d)
		}
	} else {
		r.record(c, nil)
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.WriteHeader(c.Status)
}

func (r *Receiver) record(c *Call, d *Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg.KeepCalls {
		r.callLog = append(r.callLog, c)
	}
	if d == nil {
		return
	}
	if r.cfg.KeepCalls {
		r.delivLog = append(r.delivLog, d)
	}
	r.accepted++
	if r.byKey[d.WebhookID] > 0 {
		d.Duplicate = true
		r.duplicates++
	}
	r.byKey[d.WebhookID]++
	ids := r.byID[d.Type]
	if ids == nil {
		ids = map[string]map[string]int{}
		r.byID[d.Type] = ids
	}
	for _, id := range c.IDs {
		if id == "" {
			continue // not one of the caller's alerts (klaxon's own self-alerts)
		}
		keys := ids[id]
		if keys == nil {
			keys = map[string]int{}
			ids[id] = keys
		}
		keys[d.WebhookID]++
	}
	if d.At.After(r.last) {
		r.last = d.At
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// Stats sums up what a receiver saw.
type Stats struct {
	// Calls counts every request, failed or not.
	Calls int64
	// Accepted counts the calls answered 2xx.
	Accepted int
	// Duplicates counts accepted calls whose webhook-id was accepted before.
	Duplicates int
	// BadBodies counts calls whose body was not JSON.
	BadBodies int
	// Last is when the latest accepted call arrived.
	Last time.Time
}

// Stats returns the receiver's counters.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{Calls: r.calls.Load(), Accepted: r.accepted, Duplicates: r.duplicates, BadBodies: r.bodyErrors, Last: r.last}
}

// Count is how many distinct alerts (by a non-empty ID label) arrived in accepted calls
// of event type typ.
func (r *Receiver) Count(typ string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID[typ])
}

// Keys returns the distinct webhook-ids accepted for the alert named id in
// calls of event type typ, with how many accepted calls carried each.
func (r *Receiver) Keys(typ, id string) map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, n := range r.byID[typ][id] {
		out[k] = n
	}
	return out
}

// Calls returns the call log (ReceiverConfig.KeepCalls), oldest first.
func (r *Receiver) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Call, len(r.callLog))
	for i, c := range r.callLog {
		out[i] = *c
	}
	return out
}

// Deliveries returns the accepted deliveries (ReceiverConfig.KeepCalls) of
// the alert named id, or all of them when id is "", oldest first.
func (r *Receiver) Deliveries(id string) []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Delivery
	for _, d := range r.delivLog {
		keep := id == ""
		for _, a := range d.Alerts {
			keep = keep || a.Labels[r.cfg.IDLabel] == id
		}
		if keep {
			out = append(out, *d)
		}
	}
	return out
}

// Verdict is the outcome of checking a set of alerts against what arrived.
type Verdict struct {
	// Missing are the ids that never arrived.
	Missing []string
	// Duplicates counts accepted calls beyond the first per id.
	Duplicates int
	// KeyConflicts are the ids that arrived under more than one webhook-id:
	// a duplicate that does not carry its original's idempotency key.
	KeyConflicts []string
}

// OK is true when nothing is missing and every duplicate shares its key.
func (v Verdict) OK() bool { return len(v.Missing) == 0 && len(v.KeyConflicts) == 0 }

// String sums the verdict up in one line.
func (v Verdict) String() string {
	return fmt.Sprintf("missing %d, duplicates %d, key conflicts %d", len(v.Missing), v.Duplicates, len(v.KeyConflicts))
}

// Check compares the alerts named ids with the accepted calls of event type
// typ.
func (r *Receiver) Check(typ string, ids []string) Verdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	var v Verdict
	for _, id := range ids {
		keys := r.byID[typ][id]
		if len(keys) == 0 {
			v.Missing = append(v.Missing, id)
			continue
		}
		if len(keys) > 1 {
			v.KeyConflicts = append(v.KeyConflicts, id)
		}
		for _, n := range keys {
			v.Duplicates += n
		}
		v.Duplicates--
	}
	return v
}

// ErrWaitTimeout is returned by Wait when its context ends first.
var ErrWaitTimeout = errors.New("receiver: wait ended before enough alerts arrived")

// Wait blocks until at least n distinct alerts arrived with event type typ,
// or ctx ends (ErrWaitTimeout, wrapping the context's cause).
func (r *Receiver) Wait(ctx context.Context, typ string, n int) error {
	for {
		r.mu.Lock()
		got := len(r.byID[typ])
		ch := r.changed
		r.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: %d of %d: %w", ErrWaitTimeout, got, n, context.Cause(ctx))
		}
	}
}

// RetryAfterOnce answers the first call of every webhook-id with 429 and
// Retry-After: secs, and accepts the later ones.
func RetryAfterOnce(secs int) FaultFunc {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(c *Call) Fault {
		mu.Lock()
		defer mu.Unlock()
		if seen[c.WebhookID] {
			return Fault{}
		}
		seen[c.WebhookID] = true
		return Fault{Status: http.StatusTooManyRequests, RetryAfter: strconv.Itoa(secs)}
	}
}

// Flaky fails a fraction rate of calls at random: half of them with 500,
// half by holding the request for hold (longer than the sender's attempt
// timeout, so the sender times out). maxRun, when > 0, accepts a call
// after maxRun failures in a row, which keeps a sender's circuit breaker
// (opened by consecutive failures) out of the picture.
func Flaky(rate float64, hold time.Duration, maxRun int) FaultFunc {
	var (
		mu  sync.Mutex
		run int
	)
	return func(*Call) Fault {
		mu.Lock()
		defer mu.Unlock()
		x := rand.Float64()
		if maxRun > 0 && run >= maxRun {
			x = 1
		}
		switch {
		case x < rate/2:
			run++
			return Fault{Status: http.StatusInternalServerError}
		case x < rate:
			run++
			return Fault{Hold: hold}
		}
		run = 0
		return Fault{}
	}
}

// Always answers every call with status.
func Always(status int) FaultFunc {
	return func(*Call) Fault { return Fault{Status: status} }
}
