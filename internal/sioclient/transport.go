package sioclient

import (
	"sync"
	"time"

	engine "github.com/zishang520/socket.io/clients/engine/v3"
	"github.com/zishang520/socket.io/clients/engine/v3/transports"
)

// The library's Manager.Open (clients/socket/v3 manager.go:285-313) creates the Engine.IO socket
// and only then subscribes to its "open" and "error" events. Creating the socket dials the
// websocket synchronously (clients/engine/v3 websocket.go:123) and starts the reader goroutine
// (websocket.go:203), so that:
//
//   - the server's handshake can be read, and "open" emitted (socket-without-upgrade.go:407), on
//     the reader goroutine before the manager listens: the manager stays "opening", never sends
//     the namespace CONNECT, and the attempt hangs until the connect timeout;
//   - a failed dial (connection refused, a proxy that closes the connection) emits "error"
//     (websocket.go:125) before anyone listens: the failure is lost and the attempt again hangs
//     until the connect timeout instead of moving on to the next reconnection attempt.
//
// deferredWebSocket is the library's websocket transport with its dial moved to a goroutine that
// waits until the manager has subscribed to the engine socket, so that no event is lost, and
// that flushes what was written before the transport became writable.

// deferredWebSocketCtor builds deferredWebSocket transports; it replaces transports.WebSocket.
type deferredWebSocketCtor struct{}

func (deferredWebSocketCtor) Name() string { return transports.WebSocket.Name() }

func (deferredWebSocketCtor) New(socket engine.Socket, opts engine.SocketOptionsInterface) engine.Transport {
	inner := transports.WebSocket.New(socket, opts)
	t := &deferredWebSocket{Transport: inner, socket: socket}
	// The library's transports call Open/Close/Send through their prototype: route DoOpen and
	// DoClose here.
	inner.Prototype(t)
	return t
}

// maxSubscribeWait bounds the wait for the manager's subscriptions, in case a later version of
// the library subscribes differently: the dial then goes ahead as it used to.
const maxSubscribeWait = time.Second

type deferredWebSocket struct {
	engine.Transport
	socket engine.Socket

	mu      sync.Mutex
	dialing bool // the library's DoOpen is running
	closed  bool // DoClose was called
}

// DoOpen starts the dial on another goroutine, once the manager listens to the engine socket.
func (t *deferredWebSocket) DoOpen() {
	go t.open()
}

func (t *deferredWebSocket) open() {
	deadline := time.Now().Add(maxSubscribeWait)
	for !t.subscribed() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond)
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.dialing = true
	t.mu.Unlock()

	t.Transport.DoOpen() // dials; emits "error", or starts the reader

	t.mu.Lock()
	t.dialing = false
	closed := t.closed
	t.mu.Unlock()
	if closed { // closed while dialing: close the connection the dial may have made
		t.Transport.DoClose()
		return
	}
	// The library starts the reader goroutine before it marks the transport writable
	// (websocket.go:203-205): the handshake, and the manager's CONNECT packet, may have been
	// processed meanwhile, the packet left in the engine's write buffer with nothing to flush it
	// until the next write (a pong, 25 s later). Flush it now.
	t.socket.Flush()
}

// subscribed reports whether the manager listens to the engine socket (Manager.Open subscribes
// to "open", then "error"), or whether the transport was closed meanwhile.
func (t *deferredWebSocket) subscribed() bool {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	return closed || (t.socket.ListenerCount("open") > 0 && t.socket.ListenerCount("error") > 0)
}

// DoClose closes the connection; while the dial is running, it leaves that to open.
func (t *deferredWebSocket) DoClose() {
	t.mu.Lock()
	t.closed = true
	run := !t.dialing
	t.mu.Unlock()
	if run {
		t.Transport.DoClose()
	}
}
