package notify

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the dispatcher's Prometheus self-metrics. Build them with
// NewMetrics; a nil *Metrics records nothing.
type Metrics struct {
	notifications *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	queueDepth    prometheus.Gauge
	circuit       *prometheus.GaugeVec
}

// NewMetrics registers the dispatcher metrics with r:
// klaxon_notifications_total{channel,outcome},
// klaxon_notification_latency_seconds{channel} (transition to the
// receiver's answer), klaxon_queue_depth and
// klaxon_channel_circuit_state{channel} (0 closed, 1 half-open, 2 open).
func NewMetrics(r prometheus.Registerer) *Metrics {
	m := &Metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_notifications_total",
			Help: "Notification attempts and decisions by channel and outcome (sent, retry, failed, failed_over, grouped, ...).",
		}, []string{"channel", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "klaxon_notification_latency_seconds",
			Help:    "Time from the alert transition to the receiver's successful answer.",
			Buckets: []float64{.0005, .001, .002, .004, .008, .016, .032, .064, .128, .256, .512, 1, 2, 4, 8, 16, 32, 64, 128},
		}, []string{"channel"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_queue_depth",
			Help: "Notifications not yet finished (queued, waiting for a retry, or in flight).",
		}),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "klaxon_channel_circuit_state",
			Help: "Circuit breaker state per channel: 0 closed, 1 half-open, 2 open.",
		}, []string{"channel"}),
	}
	if r != nil {
		r.MustRegister(m.notifications, m.latency, m.queueDepth, m.circuit)
	}
	return m
}

func (m *Metrics) outcome(channel, outcome string) {
	if m != nil {
		m.notifications.WithLabelValues(channel, outcome).Inc()
	}
}

func (m *Metrics) observeLatency(channel string, seconds float64) {
	if m != nil {
		m.latency.WithLabelValues(channel).Observe(seconds)
	}
}

func (m *Metrics) setQueueDepth(n int) {
	if m != nil {
		m.queueDepth.Set(float64(n))
	}
}

func (m *Metrics) setCircuit(channel string, state int) {
	if m != nil {
		m.circuit.WithLabelValues(channel).Set(float64(state))
	}
}
