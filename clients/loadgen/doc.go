// Package loadgen is a load generator for pizzapi relays and any Socket.IO relay that speaks
// the same /relay and /viewer events (such as the Node peer in bench/node-relay).
//
// It has its own minimal Engine.IO v4 / Socket.IO v5 client (Conn) over gorilla/websocket,
// limited to what a benchmark needs: the websocket transport only, one namespace per connection,
// a handshake auth object, pings, events in both directions and connect errors. Each connection
// has one reader goroutine; incoming events are handed to a callback as slices of a reused
// buffer, so receiving costs no allocation beyond what the websocket library makes per frame.
//
// Run drives a benchmark: publishers register sessions on /relay and emit events at a fixed
// rate, each carrying its send time; viewers on /viewer record the delivery latency of every
// event into a Histogram and check the relay's sequence numbers for loss, duplicates and
// reordering. Every phase is bounded in time. A publisher may run in a process of its own
// (Config.PublisherCommand, ServePublisher), and its writes count the time they waited for the
// relay to make room apart from the time it waited for a processor (Result.PublisherMaxBlockMs).
package loadgen
