// Package wstransport is the relay's Engine.IO websocket transport, registered with the engine
// server in place of the library's (ServerOptions.SetTransports; polling stays the library's).
//
// It differs from the library's transport where fan-out pays:
//   - everything queued for a connection goes out in one writev(2): a pool of writer goroutines,
//     about one per processor and none while nothing is queued, takes the connections with
//     frames queued in turn and writes whatever has accumulated since the connection's last
//     write, without waiting on the network; a connection whose socket is full gets a goroutine
//     of its own until its client has taken what was queued;
//   - a broadcast is framed once (Frame): server frames are unmasked, so the header is the same
//     for every receiver and the bytes are appended as they are;
//   - it keeps no buffer while a connection is idle: the write buffer goes back to a pool after
//     each write, and the reader reads each frame into a buffer of the frame's size;
//   - incoming messages are bounded per connection by authentication, and large ones by a budget
//     shared across connections (Limits).
//   - on Linux the kernel keeps at most maxUnsent bytes unsent per connection (TCP_NOTSENT_LOWAT),
//     so what a slow client has not taken waits in the transport's queue, counted by Backlog,
//     rather than in a send buffer the kernel autotunes to megabytes.
//
// It keeps what the library's transport guarantees: packets in order, the engine's drain
// callbacks once per Send, websocket ping answered with pong, close frames answered, the read
// deadline of the engine's idle timeout, per-message-deflate off, and the upgrade from polling
// (the engine's handshake, probe and upgrade packets pass through Send and OnData unchanged).
package wstransport

import (
	"log/slog"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Options configures the transport.
type Options struct {
	// Limits bounds incoming messages.
	Limits *Limits
	// WriteTimeout bounds one write to a client; a client that takes longer is disconnected.
	WriteTimeout time.Duration
	// Logger receives the refused messages (warn) and connection errors (debug).
	Logger *slog.Logger
}

// Builder creates the transport for the engine server; it implements transports.TransportCtor.
type Builder struct{ opts Options }

// NewBuilder returns the builder to register with ServerOptions.SetTransports.
func NewBuilder(opts Options) *Builder { return &Builder{opts: opts} }

// New implements transports.TransportCtor.
func (b *Builder) New(ctx *types.HttpContext) transports.Transport { return newTransport(ctx, &b.opts) }

// Name implements transports.TransportCtor.
func (b *Builder) Name() string { return transports.WEBSOCKET }

// HandlesUpgrades implements transports.TransportCtor.
func (b *Builder) HandlesUpgrades() bool { return true }

// UpgradesTo implements transports.TransportCtor.
func (b *Builder) UpgradesTo() []string { return nil }
