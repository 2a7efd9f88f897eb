package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// backlog is the pizzapi_backlog_bytes gauge: the bytes written to sockets and not yet sent,
// per namespace, summed over the sockets when the metrics are collected (nothing on the delivery
// path but the sockets' own counters).
type backlog struct {
	desc *prometheus.Desc

	mu      sync.Mutex
	sources map[*backlogSource]struct{}
}

type backlogSource struct {
	nsp     string
	pending func() int64
}

func newBacklog() *backlog {
	return &backlog{
		desc: prometheus.NewDesc("pizzapi_backlog_bytes",
			"Bytes written to sockets that the clients have not taken yet, per namespace.", []string{"namespace"}, nil),
		sources: map[*backlogSource]struct{}{},
	}
}

// track adds a socket's backlog until the returned function is called.
func (b *backlog) track(nsp string, pending func() int64) func() {
	src := &backlogSource{nsp: nsp, pending: pending}
	b.mu.Lock()
	b.sources[src] = struct{}{}
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.sources, src)
		b.mu.Unlock()
	}
}

// Describe implements prometheus.Collector.
func (b *backlog) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect implements prometheus.Collector.
func (b *backlog) Collect(ch chan<- prometheus.Metric) {
	sums := map[string]int64{}
	b.mu.Lock()
	for src := range b.sources {
		sums[src.nsp] += max(src.pending(), 0)
	}
	b.mu.Unlock()
	for nsp, n := range sums {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, float64(n), nsp)
	}
}
