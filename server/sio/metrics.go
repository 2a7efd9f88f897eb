package sio

import "time"

// Metrics receives what the Socket.IO layer observes; server/metrics implements it with
// Prometheus collectors.
type Metrics interface {
	// Connections adds delta to the number of sockets connected to a namespace.
	Connections(nsp string, delta int)
	// EventIn counts an event received on a namespace.
	EventIn(nsp, event string)
	// Invalid counts an event refused because it is unknown, malformed or too large.
	Invalid(nsp, event string)
	// Delivered counts a packet written to a socket of a namespace.
	Delivered(nsp string)
	// Dropped counts a socket dropped for falling too far behind.
	Dropped(nsp string)
	// TrackBacklog counts the bytes a socket of a namespace has not been sent yet (pending reads
	// them when the metrics are collected) until untrack is called.
	TrackBacklog(nsp string, pending func() int64) (untrack func())
	// InboxWait returns what observes, for a socket of a namespace, how long each received event
	// waited in the socket's inbox before its handler ran.
	InboxWait(nsp string) func(time.Duration)
}

// NopMetrics discards everything.
type NopMetrics struct{}

// Connections implements Metrics.
func (NopMetrics) Connections(string, int) {}

// EventIn implements Metrics.
func (NopMetrics) EventIn(string, string) {}

// Invalid implements Metrics.
func (NopMetrics) Invalid(string, string) {}

// Delivered implements Metrics.
func (NopMetrics) Delivered(string) {}

// Dropped implements Metrics.
func (NopMetrics) Dropped(string) {}

// TrackBacklog implements Metrics.
func (NopMetrics) TrackBacklog(string, func() int64) func() { return func() {} }

// InboxWait implements Metrics.
func (NopMetrics) InboxWait(string) func(time.Duration) { return func(time.Duration) {} }
