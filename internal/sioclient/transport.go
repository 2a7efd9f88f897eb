package sioclient

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	ws "github.com/gorilla/websocket"
	engine "github.com/zishang520/socket.io/clients/engine/v3"
	"github.com/zishang520/socket.io/clients/engine/v3/transports"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// wsTransport is the Engine.IO websocket transport the clients use instead of the library's
// (clients/engine/v3 websocket.go), which gets three things wrong:
//
//   - Manager.Open (clients/socket/v3 manager.go:285-313) creates the Engine.IO socket and only
//     then subscribes to its "open" and "error" events, while the library's transport dials
//     synchronously when the socket is created and starts reading at once: the server's
//     handshake could be handled, and "open" emitted, before the manager listened (the attempt
//     then hung until the connect timeout without sending the namespace CONNECT), and a failed
//     dial (connection refused, a 502 from a load balancer) was reported before anyone listened
//     (the attempt again hung instead of moving on to the next reconnection attempt).
//     wsTransport dials on its own goroutine once the manager listens.
//   - It started reading before it marked itself writable, so that the manager's CONNECT packet,
//     written in answer to the handshake, could stay in the engine's buffer until the next write
//     (a pong, 25 s later). wsTransport is open and writable before it reads.
//   - Its close dropped the connection at once, before the writes it had queued had run: the
//     namespace DISCONNECT of a client's Close most often never left (the server saw a lost
//     connection in 26 closes of 30, and a closed CLI's session waited out the reconnect grace).
//     wsTransport writes everything queued before the close, then ends the websocket with a close
//     frame and drops the connection once the server has answered it (so no unread data turns
//     the close into a reset that could discard what was sent).
//
// It also bounds the connection attempt itself, in place of the manager's connect timer, which
// Manager.Open (manager.go:315-330) arms only after subscribing to "open": a connection that
// opened in between (the transport dials once those subscriptions exist, and a loaded machine can
// hold the goroutine in Open that long) found no timer to clear, and the timer then closed the
// open connection at the timeout (a test client without reconnection lost its events; a CLI or
// runner reconnected for nothing). The manager's timer is set to noManagerTimeout instead.
type wsTransport struct {
	engine.Transport
	socket engine.Socket
	// connectTimeout bounds the dial and the wait for the server's handshake.
	connectTimeout time.Duration

	// done is closed when the connection is gone (or was never made) and nothing more is written.
	done chan struct{}

	mu      sync.Mutex
	pending [][]*packet.Packet // batches of packets for the writer, in order
	wake    chan struct{}      // tells the writer that pending or closing changed
	closing bool               // DoClose was called
	failed  bool               // the connection failed (and that was reported)
	cancel  context.CancelFunc // aborts the dial
}

// wsTransportCtor builds wsTransports; it replaces transports.WebSocket.
type wsTransportCtor struct {
	connectTimeout time.Duration
}

// noManagerTimeout is the manager's connect timeout: never (the transport has its own).
const noManagerTimeout = time.Duration(math.MaxInt64)

// Name is the transport's Engine.IO name, "websocket".
func (wsTransportCtor) Name() string { return transports.WebSocket.Name() }

// New builds the transport of an Engine.IO socket.
func (c wsTransportCtor) New(socket engine.Socket, opts engine.SocketOptionsInterface) engine.Transport {
	t := &wsTransport{
		Transport:      engine.MakeTransport(),
		socket:         socket,
		connectTimeout: c.connectTimeout,
		done:           make(chan struct{}),
		wake:           make(chan struct{}, 1),
	}
	// The library's transports call DoOpen, DoClose and Write through their prototype.
	t.Prototype(t)
	t.Construct(socket, opts)
	return t
}

// Timing of the transport. The close is bounded so that a dead peer cannot hold a closing
// client (Close waits for it) for long.
const (
	// maxSubscribeWait bounds the wait for the manager's subscriptions, in case a later version
	// of the library subscribes differently: the dial then goes ahead.
	maxSubscribeWait = time.Second
	// writeWait bounds one write.
	writeWait = 10 * time.Second
	// closeWait bounds the close: the writes queued before it, the close frame, and the wait
	// for the server's answer.
	closeWait = 2 * time.Second
)

// Name is the transport's Engine.IO name, "websocket".
func (t *wsTransport) Name() string { return transports.WebSocket.Name() }

// DoOpen starts the dial on another goroutine, once the manager listens to the engine socket.
func (t *wsTransport) DoOpen() {
	ctx, cancel := context.WithCancel(context.Background())
	t.mu.Lock()
	t.cancel = cancel
	closing := t.closing
	t.mu.Unlock()
	if closing {
		cancel()
	}
	go t.run(ctx)
}

// run dials, then reads until the connection ends; the writer runs beside it.
func (t *wsTransport) run(ctx context.Context) {
	deadline := time.Now().Add(maxSubscribeWait)
	for !t.subscribed() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond)
	}
	dialCtx, cancel := context.WithTimeout(ctx, t.connectTimeout)
	conn, err := t.dial(dialCtx)
	cancel()
	switch {
	case t.isClosing():
		if conn != nil {
			_ = conn.Close()
		}
		close(t.done)
		return
	case err != nil:
		close(t.done)
		t.Emit("error", err)
		return
	}
	readerDone := make(chan struct{})
	go t.write(conn, readerDone)
	t.OnOpen() // open and writable before the handshake is read
	err = t.read(conn)
	close(readerDone)
	if !t.fail() {
		return
	}
	// As the library's transport: a close frame or a closed connection is a close, anything
	// else an error.
	var closeErr *ws.CloseError
	if errors.As(err, &closeErr) || errors.Is(err, net.ErrClosed) {
		t.OnClose(engine.NewTransportError("websocket connection closed", err, nil).Err())
	} else {
		t.OnError("websocket error", err, nil)
	}
}

// subscribed reports whether the manager listens to the engine socket (Manager.Open subscribes
// to "open", then "error"), or whether the transport was closed meanwhile.
func (t *wsTransport) subscribed() bool {
	return t.isClosing() || (t.socket.ListenerCount("open") > 0 && t.socket.ListenerCount("error") > 0)
}

// dial opens the websocket with the options the clients set (headers, cookies, TLS).
func (t *wsTransport) dial(ctx context.Context) (*ws.Conn, error) {
	opts := t.Opts()
	d := ws.Dialer{
		Proxy:           http.ProxyFromEnvironment,
		TLSClientConfig: opts.TLSClientConfig(),
		Subprotocols:    opts.Protocols(),
		Jar:             t.socket.CookieJar(),
	}
	header := http.Header{}
	for k, vs := range opts.ExtraHeaders() {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	scheme := "ws"
	if opts.Secure() {
		scheme = "wss"
	}
	conn, resp, err := d.DialContext(ctx, t.CreateUri(scheme, t.Query()).String(), header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return conn, err
}

// read hands each message to the engine until the connection ends, and returns why it ended.
// The server's handshake (the first message) must come within connectTimeout. After DoClose it
// reads on (for the server's answer to the close frame) but hands nothing over.
func (t *wsTransport) read(conn *ws.Conn) error {
	if err := conn.SetReadDeadline(time.Now().Add(t.connectTimeout)); err != nil {
		return err
	}
	for first := true; ; first = false {
		mt, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		if first {
			if err := conn.SetReadDeadline(time.Time{}); err != nil {
				return err
			}
		}
		var buf types.BufferInterface = types.NewBytesBuffer(nil)
		if mt == ws.TextMessage {
			buf = types.NewStringBuffer(nil)
		}
		if _, err := buf.ReadFrom(r); err != nil {
			return err
		}
		if t.live() {
			t.OnData(buf)
		}
	}
}

// Write queues packets for the writer; the transport is writable again once they are written.
func (t *wsTransport) Write(packets []*packet.Packet) {
	t.SetWritable(false)
	t.mu.Lock()
	t.pending = append(t.pending, packets)
	t.mu.Unlock()
	t.signal()
}

// write writes the queued batches in order, emitting "drain" after each; after DoClose it writes
// what was queued, sends a close frame, waits (within closeWait) for the reader to see the
// server's answer, and closes the connection.
func (t *wsTransport) write(conn *ws.Conn, readerDone <-chan struct{}) {
	defer close(t.done)
	defer conn.Close()
	var closeBy time.Time
	for {
		t.mu.Lock()
		batches := t.pending
		t.pending = nil
		closing := t.closing
		t.mu.Unlock()
		if closing && closeBy.IsZero() {
			closeBy = time.Now().Add(closeWait)
		}
		for _, packets := range batches {
			by := time.Now().Add(writeWait)
			if closing {
				by = closeBy
			}
			if err := writePackets(conn, packets, t.SupportsBinary(), by); err != nil {
				if t.fail() {
					t.OnError("websocket error", err, nil)
				}
				return
			}
			if !closing {
				t.SetWritable(true)
				t.Emit("drain")
			}
		}
		if closing {
			msg := ws.FormatCloseMessage(ws.CloseNormalClosure, "")
			if conn.WriteControl(ws.CloseMessage, msg, closeBy) == nil {
				select {
				case <-readerDone:
				case <-time.After(time.Until(closeBy)):
				}
			}
			return
		}
		select {
		case <-t.wake:
		case <-readerDone:
			return
		}
	}
}

// writePackets writes packets, one websocket message each, before the deadline.
func writePackets(conn *ws.Conn, packets []*packet.Packet, binary bool, deadline time.Time) error {
	if err := conn.SetWriteDeadline(deadline); err != nil {
		return err
	}
	for _, p := range packets {
		data, err := parser.Parserv4().EncodePacket(p, binary)
		if err != nil {
			return err
		}
		mt := ws.BinaryMessage
		if _, ok := data.(*types.StringBuffer); ok {
			mt = ws.TextMessage
		}
		if err := conn.WriteMessage(mt, data.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// DoClose ends the transport: an ongoing dial is aborted; on an open connection the writer
// writes what was queued, then closes politely (within closeWait). It does not wait for that.
func (t *wsTransport) DoClose() {
	t.mu.Lock()
	first := !t.closing
	t.closing = true
	cancel := t.cancel
	t.mu.Unlock()
	if first && cancel != nil {
		cancel()
	}
	t.signal()
}

// fail records that the connection failed; it reports whether the failure is to be reported
// (the transport was neither closed nor had failed already).
func (t *wsTransport) fail() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	report := !t.closing && !t.failed
	t.failed = true
	return report
}

// live reports whether what arrives is still the engine's.
func (t *wsTransport) live() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.closing && !t.failed
}

func (t *wsTransport) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *wsTransport) isClosing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closing
}

// finished is closed when the connection is gone and nothing more will be written.
func (t *wsTransport) finished() <-chan struct{} { return t.done }
