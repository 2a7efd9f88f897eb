package legacy

import (
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pizzapi/pizzapi/protocol/legacy"
	"github.com/pizzapi/pizzapi/server/bus"
)

// Timing of a legacy connection: the relay pings every pingEvery, a client silent for idleTimeout
// (pongs count) is dropped, a write may take writeTimeout, and a close handshake closeWait.
const (
	pingEvery    = 30 * time.Second
	idleTimeout  = 120 * time.Second
	writeTimeout = 30 * time.Second
	closeWait    = 5 * time.Second
)

// conn is one legacy WebSocket as the relay core sees it (it implements core.Conn): events the
// core sends become frames {type, ...payload}, written in order by one writer goroutine that
// drops a client falling more than limit bytes behind. Its bus.Gate orders the writes as on
// Socket.IO: deliveries can be paused while a viewer gets its snapshot, and sequence-numbered
// events are never written twice.
type conn struct {
	*bus.Gate

	ws      *websocket.Conn
	role    *legacy.Role
	id      string
	log     *slog.Logger
	metrics Metrics
	limit   int64

	wake chan struct{}
	done chan struct{} // closed when the connection is gone

	mu        sync.Mutex
	queue     [][]byte
	pending   int64
	lastEvent string
	lastFrame []byte
	closing   bool
	closeMsg  []byte // the close frame to send once the queue is written
	dead      bool
	onceDone  sync.Once
}

func newConn(ws *websocket.Conn, role *legacy.Role, id string, log *slog.Logger, m Metrics, limit int64) *conn {
	c := &conn{ws: ws, role: role, id: id, log: log, metrics: m, limit: limit,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.Gate = bus.NewGate(func(m *bus.Message) { c.write(m.Event, m.Payload) }, c.kick)
	return c
}

// ID implements core.Conn.
func (c *conn) ID() string { return c.id }

// Send implements protocol.Sender: it queues the frame of an event ahead of paused deliveries.
func (c *conn) Send(event string, payload []byte) error {
	c.Now(func() { c.write(event, payload) })
	return nil
}

// Greet implements core.Conn; legacy clients have no session to recover, so it is Send.
func (c *conn) Greet(event string, payload []byte) error { return c.Send(event, payload) }

// SendSeq implements core.Conn.
func (c *conn) SendSeq(event string, payload []byte, seq int64) {
	c.NowSeq(seq, func() { c.write(event, payload) })
}

// write queues the frame of an event and starts the close its role ties to that frame (a viewer
// told its session ended is closed with 1000 and the reason). The gate calls it in order.
func (c *conn) write(event string, payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.dead {
		return
	}
	frame := legacy.AppendFrame(make([]byte, 0, len(payload)+len(event)+12), event, payload)
	n := int64(len(frame))
	if c.pending+n > c.limit {
		go c.kick("client too slow: " + strconv.FormatInt(c.pending, 10) + " bytes not yet sent")
		return
	}
	c.pending += n
	c.queue = append(c.queue, frame)
	c.lastEvent, c.lastFrame = event, payload
	c.metrics.Delivered(c.role.Namespace)
	if code, reason, ok := c.role.Close(event, payload, true); ok {
		c.startClose(code, reason)
	}
	c.signal()
}

// lastSent returns the last frame queued: its event and payload.
func (c *conn) lastSent() (string, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastEvent, c.lastFrame
}

// Close implements core.Conn: the connection is closed after the frames already queued, with the
// code its role gives the last frame (a runner refused with 1008, an expired CLI with 1001), or
// 1000.
func (c *conn) Close() {
	c.mu.Lock()
	code, reason, ok := c.role.Close(c.lastEvent, c.lastFrame, false)
	if !ok {
		code, reason = websocket.CloseNormalClosure, ""
	}
	c.startClose(code, reason)
	c.mu.Unlock()
	c.signal()
}

// closeWith closes the connection with a code of the caller's choosing.
func (c *conn) closeWith(code int, reason string) {
	c.mu.Lock()
	c.startClose(code, reason)
	c.mu.Unlock()
	c.signal()
}

// startClose records the close frame to send after the queue; the caller holds mu.
func (c *conn) startClose(code int, reason string) {
	if c.closing || c.dead {
		return
	}
	if len(reason) > 123 { // a close frame's payload is at most 125 bytes
		reason = reason[:123]
	}
	c.closing = true
	c.closeMsg = websocket.FormatCloseMessage(code, reason)
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// kick drops the connection at once, logging why.
func (c *conn) kick(reason string) {
	c.mu.Lock()
	dead := c.dead
	c.dead = true
	c.mu.Unlock()
	if dead {
		return
	}
	c.log.Warn("dropping legacy client", "role", c.role.Name, "conn", c.id, "reason", reason)
	c.metrics.Dropped(c.role.Namespace)
	c.finish()
}

// finish closes the network connection and marks the conn gone.
func (c *conn) finish() {
	c.onceDone.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

// writeLoop writes queued frames and pings until the connection closes; after a close frame it
// waits closeWait for the client's answer (the reader ends the connection then).
func (c *conn) writeLoop() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				c.finish()
				return
			}
			continue
		case <-c.wake:
		}
		c.mu.Lock()
		queue := c.queue
		c.queue = nil
		closeMsg := c.closeMsg
		c.mu.Unlock()
		for _, frame := range queue {
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			err := c.ws.WriteMessage(websocket.TextMessage, frame)
			c.mu.Lock()
			c.pending -= int64(len(frame))
			c.mu.Unlock()
			if err != nil {
				c.finish()
				return
			}
		}
		if closeMsg != nil { // nothing is queued after the close frame
			_ = c.ws.WriteControl(websocket.CloseMessage, closeMsg, time.Now().Add(writeTimeout))
			select {
			case <-c.done:
			case <-time.After(closeWait):
				c.finish()
			}
			return
		}
	}
}
