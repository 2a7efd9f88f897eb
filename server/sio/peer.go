// Package sio mounts the relay on the zishang520 Socket.IO server: Mounter takes the namespaces'
// generated Mount functions (protocol.Mounter), authenticates connecting sockets and feeds each
// socket's events, in order, to its generated Socket; Peer is the relay's handle on one connected
// socket.
package sio

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/pizzapi/pizzapi/internal/sioparser"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/wstransport"
)

// Peer is one connected socket as the relay core uses it. It writes pre-encoded packets straight
// to the connection, counts the bytes the client has not taken yet, and drops a client that
// falls too far behind instead of buffering without bound. Its bus.Gate orders the writes:
// deliveries can be paused while a viewer is sent its snapshot or replay, and resumed without
// losing or repeating events.
type Peer struct {
	*bus.Gate

	s       *socket.Socket
	nsp     string
	limit   int64
	log     *slog.Logger
	metrics Metrics

	pending atomic.Int64 // on polling: bytes handed to the connection and not written yet
	closed  atomic.Bool
}

func newPeer(s *socket.Socket, nsp string, limit int64, log *slog.Logger, m Metrics) *Peer {
	p := &Peer{s: s, nsp: nsp, limit: limit, log: log, metrics: m}
	p.Gate = bus.NewGate(func(m *bus.Message) { p.write(m.Frame()) }, p.Kick)
	return p
}

// ID returns the socket id.
func (p *Peer) ID() string { return string(p.s.Id()) }

// Send writes an event to this socket now, ahead of any paused deliveries. It implements
// protocol.Sender.
func (p *Peer) Send(event string, payload []byte) error {
	f := wstransport.NewFrame(len(payload)+len(p.nsp)+len(event)+8, func(dst []byte) []byte {
		return sioparser.AppendEvent(dst, p.nsp, event, payload)
	})
	p.Now(func() { p.write(f) })
	return nil
}

// sendFrame writes an encoded packet now.
func (p *Peer) sendFrame(frame *wstransport.Frame) {
	p.Now(func() { p.write(frame) })
}

// Greet sends the connection's first event through Socket.IO's own path rather than straight to
// the connection, so that it carries a Connection State Recovery offset: a client holding one can
// recover its socket after a short disconnection. Call it before any other write.
func (p *Peer) Greet(event string, payload []byte) (err error) {
	p.Now(func() {
		p.metrics.Delivered(p.nsp)
		err = p.s.Emit(event, json.RawMessage(payload))
	})
	return err
}

// SendSeq writes a viewer event carrying a sequence number now and records the number, so that a
// later delivery of the same or an older event is skipped.
func (p *Peer) SendSeq(event string, payload []byte, seq int64) {
	m := bus.NewMessage(p.nsp, event, payload, seq)
	p.NowSeq(seq, func() { p.write(m.Frame()) })
}

// stallGrace is how long a write to a client may block, with a backlog over the limit, before
// the client is dropped; hardBacklog is the multiple of the limit at which it is dropped anyway.
const (
	stallGrace  = time.Second
	hardBacklog = 8
)

// write hands a packet to the connection, or drops the client when it falls too far behind: its
// backlog of messages not yet written (large ones aside, see wstransport.LargeFrame) is over the
// limit while the client takes nothing, or far over it. The caller holds mu. On the relay's
// websocket transport the backlog is the transport's own, and the session is written to directly
// (wstransport.Direct), one that started on polling too once its upgrade is complete; on polling
// the backlog is counted here, with a callback per packet.
func (p *Peer) write(frame *wstransport.Frame) {
	if p.closed.Load() {
		return
	}
	conn := p.s.Conn()
	if backlog, blocked, ok := wstransport.Backlog(conn.Transport()); ok {
		if backlog > p.limit && (blocked > stallGrace || backlog > hardBacklog*p.limit) {
			go p.Kick("client too slow: " + strconv.FormatInt(backlog, 10) + " bytes not yet sent, the last write blocked for " + blocked.Round(time.Millisecond).String())
			return
		}
		p.metrics.Delivered(p.nsp)
		if w, ok := wstransport.Direct(conn); ok && w.WriteFrame(frame) {
			return
		}
		conn.Write(strings.NewReader(frame.Packet()), frame.Options(), nil)
		return
	}
	n := int64(frame.Len())
	if n > wstransport.LargeFrame {
		n = 0
	}
	if total := p.pending.Add(n); total > p.limit {
		p.pending.Add(-n)
		go p.Kick("client too slow: " + strconv.FormatInt(total-n, 10) + " bytes not yet sent")
		return
	}
	p.metrics.Delivered(p.nsp)
	conn.Write(strings.NewReader(frame.Packet()), frame.Options(), func(transports.Transport) { p.pending.Add(-n) })
}

// Pending returns the bytes written to the connection that the client has not taken yet.
func (p *Peer) Pending() int64 {
	if backlog, _, ok := wstransport.Backlog(p.s.Conn().Transport()); ok {
		return backlog
	}
	return p.pending.Load()
}

// Close ends the socket's session on this namespace with a DISCONNECT packet, so the client does
// not reconnect by itself.
func (p *Peer) Close() {
	p.s.Disconnect(false)
}

// Kick drops the connection at once (the client may reconnect and catch up), logging why.
func (p *Peer) Kick(reason string) {
	if p.drop(reason) {
		p.s.Conn().Close(true)
	}
}

// Shed implements bus.Laggard: it drops the client as Kick does, closing the connection on
// another goroutine (the publisher's sheds viewers), and reports whether the client was still
// connected.
func (p *Peer) Shed(reason string) bool {
	if !p.drop(reason) {
		return false
	}
	go p.s.Conn().Close(true)
	return true
}

// drop marks the client dropped, from when on nothing more is written to it, logs why and counts
// it; it reports false when the client was dropped already.
func (p *Peer) drop(reason string) bool {
	if !p.closed.CompareAndSwap(false, true) {
		return false
	}
	p.log.Warn("dropping client", "namespace", p.nsp, "socket", p.ID(), "reason", reason)
	p.metrics.Dropped(p.nsp)
	return true
}
