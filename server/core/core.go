// Package core is the relay: it implements the generated handler interfaces of the five
// namespaces on top of three interfaces (live state, durable store, message bus), so it works
// the same on one node with everything in memory and on several nodes sharing Redis.
package core

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store"
)

// Conn is one connected socket as the core uses it (sio.Peer implements it).
type Conn interface {
	bus.Member
	protocol.Sender
	// ID identifies the connection.
	ID() string
	// Greet sends the connection's first event in a way that lets the client recover its
	// Socket.IO session after a short disconnection.
	Greet(event string, payload []byte) error
	// SendSeq sends a viewer event carrying a sequence number now.
	SendSeq(event string, payload []byte, seq int64)
	// Pause holds bus deliveries; Resume delivers those above afterSeq and goes live again.
	Pause()
	Resume(afterSeq int64)
	// OnControl sets the handler of control messages addressed to this connection.
	OnControl(fn func(*bus.Message))
	// Close disconnects the client from the namespace; it will not reconnect by itself.
	Close()
}

// User is the authenticated owner of a connection or request.
type User struct {
	ID   string
	Name string
}

// Client is a socket connecting to a namespace as a transport (Socket.IO or PizzaPi's legacy
// WebSocket) hands it to the relay: the C of the generated Mount functions.
type Client struct {
	// Conn is the socket's connection.
	Conn Conn
	// User is the user the transport authenticated.
	User User
	// Query is the query of the handshake request (PizzaPi's viewers and terminals may name their
	// session or terminal there instead of in the handshake auth); nil when there is none.
	Query url.Values
}

// Options configures the core.
type Options struct {
	// NodeID identifies this relay node among others.
	NodeID string
	// BaseURL is the public URL of the relay, for share URLs.
	BaseURL string
	// EphemeralTTL is how long an ephemeral session lives without activity.
	EphemeralTTL time.Duration
	// ReconnectGrace is how long a session waits for its CLI to come back after the connection
	// dropped before it ends.
	ReconnectGrace time.Duration
	// SpawnWait is how long a REST spawn waits for the runner's answer.
	SpawnWait time.Duration
	// RequestTimeout is how long a runner command (skills, files) may take.
	RequestTimeout time.Duration
	// TerminalBuffer is how many runner messages a terminal without a viewer keeps.
	TerminalBuffer int
	Logger         *slog.Logger
	Now            func() time.Time
}

// Core is the relay of one node.
type Core struct {
	opts     Options
	live     live.Store
	db       store.Store
	bus      bus.Bus
	notifier Notifier
	log      *slog.Logger
	now      func() time.Time

	requests requests
	timers   timers
	held     held
	nodeSub  *funcMember
	fanout   FanoutObserver
	marks    seqMarks
	// started is when the node started: a session whose live state was lost (with the node's
	// memory) is expected back until the reconnect grace after this.
	started time.Time
}

// FanoutObserver is told how long publishing an event to its local viewers took.
type FanoutObserver interface {
	ObserveFanout(d time.Duration)
}

// New returns the core of a node.
func New(opts Options, ls live.Store, db store.Store, b bus.Bus, n Notifier, fanout FanoutObserver) *Core {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NodeID == "" {
		opts.NodeID = uuid.NewString()
	}
	c := &Core{opts: opts, live: ls, db: db, bus: b, notifier: n, log: opts.Logger, now: opts.Now, fanout: fanout}
	c.started = c.now()
	c.requests.pending = map[string]chan []byte{}
	c.timers.m = map[string]*time.Timer{}
	c.nodeSub = &funcMember{fn: c.onNodeMessage}
	b.Join(bus.Node+opts.NodeID, c.nodeSub)
	return c
}

// Close stops the core's timers and leaves the bus.
func (c *Core) Close() {
	c.bus.Leave(bus.Node+c.opts.NodeID, c.nodeSub)
	c.timers.stopAll()
}

// funcMember is an in-process bus member.
type funcMember struct{ fn func(*bus.Message) }

// Deliver implements bus.Member.
func (f *funcMember) Deliver(m *bus.Message) { f.fn(m) }

// The failures the core reports to REST callers and sockets; each carries the code that decides
// what the caller sees (the HTTP status, the `error` event's code).
var (
	errRunnerNotFound = protocol.NewError(protocol.ErrorCodeRunnerNotFound, "Runner not found")
	errForbidden      = protocol.NewError(protocol.ErrorCodeForbidden, "Forbidden")
	errRunnerTimeout  = protocol.NewError(protocol.ErrorCodeTimeout, "The runner did not answer in time")
	errRunnerGone     = protocol.NewError(protocol.ErrorCodeRunnerOffline, "Runner is not connected")
)

// timers are per-node timers keyed by name (reconnect grace, terminal cleanup).
type timers struct {
	mu sync.Mutex
	m  map[string]*time.Timer
}

func (t *timers) after(key string, d time.Duration, fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.m[key]; old != nil {
		old.Stop()
	}
	var tm *time.Timer
	tm = time.AfterFunc(d, func() {
		t.mu.Lock()
		if t.m[key] == tm {
			delete(t.m, key)
		}
		t.mu.Unlock()
		fn()
	})
	t.m[key] = tm
}

func (t *timers) cancel(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tm := t.m[key]; tm != nil {
		tm.Stop()
		delete(t.m, key)
	}
}

func (t *timers) stopAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, tm := range t.m {
		tm.Stop()
		delete(t.m, k)
	}
}

// background returns a context for work that outlives the request that started it.
func background() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}
