// Package metrics exposes the relay's Prometheus metrics: connections per namespace, events in
// and out, validation failures, dropped clients, the time received events wait to be handled, the
// fan-out latency of agent events and the outcomes of Web Push notifications.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors of one relay node.
type Metrics struct {
	reg         *prometheus.Registry
	connections *prometheus.GaugeVec
	eventsIn    *prometheus.CounterVec
	invalid     *prometheus.CounterVec
	delivered   *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	backlog     *backlog
	fanout      prometheus.Histogram
	inboxWait   *prometheus.HistogramVec
	pushes      *prometheus.CounterVec
	pushDropped *prometheus.CounterVec
	legacyOpen  *prometheus.GaugeVec
	legacyTotal *prometheus.CounterVec
	known       func(string) bool

	mu  sync.RWMutex
	out map[string]prometheus.Counter // cached per namespace: Delivered is on the hot path
}

// New registers the collectors on a fresh registry (with the Go and process collectors). known
// reports whether an event name is part of the contract; other names are counted as "unknown" to
// keep the label set bounded.
func New(known func(string) bool) *Metrics {
	m := &Metrics{
		known: known,
		reg:   prometheus.NewRegistry(),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pizzapi_connections", Help: "Sockets connected, per namespace.",
		}, []string{"namespace"}),
		eventsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pizzapi_events_received_total", Help: "Events received from clients, per namespace and event.",
		}, []string{"namespace", "event"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pizzapi_events_invalid_total", Help: "Events refused: unknown, not matching the contract, or too large.",
		}, []string{"namespace", "event"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pizzapi_packets_sent_total", Help: "Packets written to sockets, per namespace.",
		}, []string{"namespace"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pizzapi_clients_dropped_total", Help: "Sockets dropped for falling too far behind, per namespace.",
		}, []string{"namespace"}),
		fanout: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pizzapi_fanout_seconds",
			Help:    "Time from an agent event's sequence number being assigned to its delivery to every local viewer.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
		inboxWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pizzapi_inbox_wait_seconds",
			Help: "Time a received event waited in its socket's queue before its handler ran, per namespace: " +
				"on /relay, how far the relay's handling of a publisher's events is behind their arrival.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18),
		}, []string{"namespace"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pizzapi_push_deliveries_total", Help: "Requests to Web Push services, per outcome (sent, retried, gone, failed, gave_up).",
		}, []string{"outcome"}),
		pushDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pizzapi_push_dropped_total", Help: "Web Push notifications or deliveries not attempted, per reason (queue_full, closed, claim_failed, refused_endpoint).",
		}, []string{"reason"}),
		legacyOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pizzapi_legacy_connections", Help: "Legacy raw-WebSocket connections open, per role (tui, viewer, runner, terminal, hub); also counted in pizzapi_connections under their namespace.",
		}, []string{"role"}),
		legacyTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pizzapi_legacy_connections_total", Help: "Legacy raw-WebSocket connections accepted, per role: when it stops growing, the legacy path can be switched off.",
		}, []string{"role"}),
		backlog: newBacklog(),
		out:     map[string]prometheus.Counter{},
	}
	m.reg.MustRegister(m.connections, m.eventsIn, m.invalid, m.delivered, m.dropped, m.backlog, m.fanout, m.inboxWait, m.pushes, m.pushDropped, m.legacyOpen, m.legacyTotal,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// label keeps label cardinality bounded: an event name a client made up is counted as "unknown".
func (m *Metrics) label(event string) string {
	if m.known != nil && !m.known(event) {
		return "unknown"
	}
	return event
}

// Connections implements sio.Metrics.
func (m *Metrics) Connections(nsp string, delta int) {
	m.connections.WithLabelValues(nsp).Add(float64(delta))
}

// EventIn implements sio.Metrics.
func (m *Metrics) EventIn(nsp, event string) {
	m.eventsIn.WithLabelValues(nsp, m.label(event)).Inc()
}

// Invalid implements sio.Metrics.
func (m *Metrics) Invalid(nsp, event string) {
	m.invalid.WithLabelValues(nsp, m.label(event)).Inc()
}

// Delivered implements sio.Metrics.
func (m *Metrics) Delivered(nsp string) {
	m.mu.RLock()
	c := m.out[nsp]
	m.mu.RUnlock()
	if c == nil {
		c = m.delivered.WithLabelValues(nsp)
		m.mu.Lock()
		m.out[nsp] = c
		m.mu.Unlock()
	}
	c.Inc()
}

// Dropped implements sio.Metrics.
func (m *Metrics) Dropped(nsp string) { m.dropped.WithLabelValues(nsp).Inc() }

// LegacyConnections implements legacy.Metrics.
func (m *Metrics) LegacyConnections(role string, delta int) {
	m.legacyOpen.WithLabelValues(role).Add(float64(delta))
	if delta > 0 {
		m.legacyTotal.WithLabelValues(role).Add(float64(delta))
	}
}

// TrackBacklog implements sio.Metrics.
func (m *Metrics) TrackBacklog(nsp string, pending func() int64) func() {
	return m.backlog.track(nsp, pending)
}

// InboxWait implements sio.Metrics.
func (m *Metrics) InboxWait(nsp string) func(time.Duration) {
	h := m.inboxWait.WithLabelValues(nsp)
	return func(d time.Duration) { h.Observe(d.Seconds()) }
}

// ObserveFanout implements core.FanoutObserver.
func (m *Metrics) ObserveFanout(d time.Duration) { m.fanout.Observe(d.Seconds()) }

// PushDelivery implements push.Observer.
func (m *Metrics) PushDelivery(outcome string) { m.pushes.WithLabelValues(outcome).Inc() }

// PushDropped implements push.Observer.
func (m *Metrics) PushDropped(reason string) { m.pushDropped.WithLabelValues(reason).Inc() }
