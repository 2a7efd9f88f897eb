package core

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store"
)

// viewerSocket handles a /viewer socket watching one session.
type viewerSocket struct {
	viewer.UnimplementedServerHandler
	c    *Core
	conn Conn
	user User

	mu        sync.Mutex
	sessionID string // "" once the session has ended
	// waiting is set while the viewer waits for a session that is expected back (awaitSession).
	waiting bool
}

// ConnectViewer attaches a /viewer socket to a session. A viewer that names the last sequence
// number it received gets exactly the events it missed, when the history still has them; any
// other gets the snapshot. Sessions that are not live are replayed from the durable store and the
// socket is closed (a nil handler is returned then).
func (c *Core) ConnectViewer(ctx context.Context, conn Conn, u User, auth *viewer.Auth) *viewerSocket {
	id, _ := auth.SessionID.Get()
	emit := viewer.ServerEmitter{S: conn}
	if id == "" {
		_ = emit.Error(&protocol.ErrorMessage{Code: protocol.ErrorCodeInvalid, Message: "Missing session ID"})
		conn.Close()
		return nil
	}
	s, err := c.live.Session(ctx, id)
	if errors.Is(err, live.ErrNotFound) {
		if h := c.awaitSession(ctx, conn, u, id); h != nil {
			return h
		}
	}
	if errors.Is(err, live.ErrNotFound) || (err == nil && s.UserID != u.ID) {
		c.replayEnded(ctx, conn, u, id)
		return nil
	}
	if err != nil {
		_ = emit.Error(&protocol.ErrorMessage{Code: protocol.ErrorCodeUnavailable, Message: "Failed to load session snapshot"})
		conn.Close()
		return nil
	}
	h := &viewerSocket{c: c, conn: conn, user: u, sessionID: id}
	conn.OnControl(h.control)
	conn.Pause()
	c.bus.Join(bus.SessionViewers+id, conn)
	var last *int64
	if v, ok := auth.LastSeq.Get(); ok {
		last = &v
	}
	if !h.catchUp(ctx, id, last, true) {
		return h
	}
	if fresh := c.extendExpiry(ctx, s); fresh != nil {
		s = fresh
	}
	c.sessionStatus(ctx, s, false)
	return h
}

// awaitSession keeps a viewer of a session whose live state is gone while its CLI is expected
// back: the durable record says it did not end, and the reconnect grace since it was last known
// live (or since this node started, which is when a restarted node lost it) has not run out. The
// viewer is told the session is inactive, gets its last stored snapshot, and follows the session
// as soon as its CLI registers it again (createSession wakes it). When the grace runs out first,
// the session is ended and the viewer told so, like the viewers of a session whose CLI did not
// come back. It returns nil when the session is not expected back.
func (c *Core) awaitSession(ctx context.Context, conn Conn, u User, id string) *viewerSocket {
	rec, err := c.db.RelaySession(ctx, id)
	if err != nil || rec.UserID != u.ID || rec.EndedAt != nil {
		return nil
	}
	since := rec.LastActiveAt
	if c.started.After(since) {
		since = c.started
	}
	left := since.Add(c.opts.ReconnectGrace).Sub(c.now())
	if left <= 0 {
		return nil
	}
	h := &viewerSocket{c: c, conn: conn, user: u, sessionID: id, waiting: true}
	conn.OnControl(h.control)
	c.bus.Join(bus.SessionViewers+id, conn)
	if s, err := c.live.Session(ctx, id); err == nil && s.UserID == u.ID {
		// The CLI registered in the meantime: follow the session at once.
		h.wake(ctx)
		return h
	}
	hello := viewer.SessionConnected{SessionID: id, IsActive: protocol.Some(false)}
	_ = conn.Greet(viewer.EventConnected, hello.AppendJSON(nil))
	if state, err := c.db.SessionState(ctx, id); err == nil {
		_ = conn.Send(viewer.EventEvent, viewerEventPayload(sessionActive(state), 0, true))
	}
	c.timers.after("await:"+conn.ID(), left, func() {
		ctx, cancel := background()
		defer cancel()
		h.giveUp(ctx)
	})
	c.log.Info("viewer waiting for its session to come back", "session", id, "grace", left.Round(time.Second))
	return h
}

// sessionActive wraps a stored state in a session_active event.
func sessionActive(state []byte) []byte {
	ev := make([]byte, 0, len(state)+40)
	ev = append(ev, `{"type":"session_active","state":`...)
	return append(append(ev, state...), '}')
}

// wake makes a waiting viewer follow its session, now live: the connected event with the current
// number, the snapshot, then the events as they come.
func (h *viewerSocket) wake(ctx context.Context) {
	h.mu.Lock()
	waiting, id := h.waiting, h.sessionID
	h.waiting = false
	h.mu.Unlock()
	if !waiting || id == "" {
		return
	}
	h.c.timers.cancel("await:" + h.conn.ID())
	h.conn.Pause()
	if !h.catchUp(ctx, id, nil, true) {
		return
	}
	if s, err := h.c.live.Session(ctx, id); err == nil {
		h.c.sessionStatus(ctx, s, false)
	}
}

// giveUp ends the wait of a viewer whose session did not come back within the grace.
func (h *viewerSocket) giveUp(ctx context.Context) {
	h.mu.Lock()
	waiting, id := h.waiting, h.sessionID
	h.waiting = false
	h.mu.Unlock()
	if !waiting || id == "" {
		return
	}
	c := h.c
	if _, err := c.live.Session(ctx, id); err == nil {
		h.mu.Lock()
		h.waiting = true
		h.mu.Unlock()
		h.wake(ctx)
		return
	}
	if rec, err := c.db.RelaySession(ctx, id); err == nil && rec.EndedAt == nil {
		if err := c.db.EndRelaySession(ctx, id, c.now(), c.expiry(rec.IsEphemeral)); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.log.Error("recording the end of a session that did not come back", "session", id, "error", err)
		}
	}
	h.sessionGone(viewer.DisconnectCodeSessionEnded)
}

// extendExpiry pushes back the expiry of an ephemeral session a viewer opened, and returns the
// updated session (nil when nothing changed). An expiry already close to a full TTL away is left
// alone: a crowd of viewers joining at once would otherwise all rewrite the same record.
func (c *Core) extendExpiry(ctx context.Context, s *live.Session) *live.Session {
	if !s.IsEphemeral {
		return nil
	}
	want := c.expiry(true)
	if s.ExpiresAt != nil && want.Sub(*s.ExpiresAt) < c.opts.EphemeralTTL/20 {
		return nil
	}
	updated, err := c.live.UpdateSession(ctx, s.ID, func(s *live.Session) error {
		if s.ExpiresAt != nil && !s.ExpiresAt.Before(*want) {
			return errUnchanged
		}
		s.ExpiresAt = want
		return nil
	})
	if err != nil {
		return nil
	}
	return updated
}

// replayEnded sends the last snapshot of a session that is no longer live, then closes the
// socket. Sessions of other users look the same as sessions that do not exist.
func (c *Core) replayEnded(ctx context.Context, conn Conn, u User, id string) {
	emit := viewer.ServerEmitter{S: conn}
	defer conn.Close()
	rec, err := c.db.RelaySession(ctx, id)
	if err != nil || rec.UserID != u.ID {
		_ = emit.Error(&protocol.ErrorMessage{Code: protocol.ErrorCodeSessionNotFound, Message: "Session not found"})
		return
	}
	state, err := c.db.SessionState(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		_ = emit.Error(&protocol.ErrorMessage{Code: protocol.ErrorCodeSessionNotFound, Message: "Session not found"})
		return
	}
	if err != nil {
		_ = emit.Error(&protocol.ErrorMessage{Code: protocol.ErrorCodeUnavailable, Message: "Failed to load session snapshot"})
		return
	}
	_ = emit.Connected(&viewer.SessionConnected{SessionID: id, ReplayOnly: protocol.Some(true)})
	_ = conn.Send(viewer.EventEvent, viewerEventPayload(sessionActive(state), 0, false))
	_ = emit.Disconnected(disconnected(viewer.DisconnectCodeReplayOnly))
}

// catchUp brings a paused viewer up to date and resumes deliveries: the missed events after
// lastSeq when the history has them all, the snapshot otherwise. With connected set it first
// sends the "connected" event. It returns false when the session is gone.
func (h *viewerSocket) catchUp(ctx context.Context, id string, lastSeq *int64, connected bool) bool {
	c := h.c
	s, err := c.live.Session(ctx, id)
	if err != nil {
		h.sessionGone(viewer.DisconnectCodeSessionEnded)
		return false
	}
	hello := viewer.SessionConnected{
		SessionID:   id,
		IsActive:    protocol.Some(s.IsActive),
		SessionName: protocol.Some(s.SessionName),
	}
	if s.LastHeartbeatAt != nil {
		t := live.FormatTime(*s.LastHeartbeatAt)
		hello.LastHeartbeatAt = protocol.Some(&t)
	} else {
		hello.LastHeartbeatAt = protocol.Some[*string](nil)
	}
	// A viewer ahead of the session's numbers saw numbers from before the session's live state was
	// lost; without the reservation (seqBlock) holding, it gets the snapshot, not a silent wait.
	if lastSeq != nil && *lastSeq <= s.Seq {
		entries, complete, err := c.live.History(ctx, id, *lastSeq)
		if err == nil && complete {
			if connected {
				hello.LastSeq = protocol.Some(*lastSeq)
				_ = h.conn.Greet(viewer.EventConnected, hello.AppendJSON(nil))
			}
			resume := *lastSeq
			for _, e := range entries {
				h.conn.SendSeq(viewer.EventEvent, viewerEventPayload(e.Event, e.Seq, false), e.Seq)
				resume = e.Seq
			}
			h.conn.Resume(resume)
			return true
		}
	}
	hb, state, seq, err := c.live.Snapshot(ctx, id)
	if err != nil {
		h.sessionGone(viewer.DisconnectCodeSessionEnded)
		return false
	}
	if connected {
		hello.LastSeq = protocol.Some(seq)
		_ = h.conn.Greet(viewer.EventConnected, hello.AppendJSON(nil))
	}
	if hb != nil {
		h.conn.SendSeq(viewer.EventEvent, viewerEventPayload(hb, seq, false), seq)
	}
	if state != nil {
		h.conn.SendSeq(viewer.EventEvent, viewerEventPayload(state, seq, false), seq)
	} else if snap := c.snapshotFromHistory(ctx, id); snap != nil {
		_ = h.conn.Send(viewer.EventEvent, viewerEventPayload(snap, 0, true))
	}
	h.conn.Resume(seq)
	return true
}

// snapshotFromHistory returns the newest event of the history that can stand for a snapshot:
// an agent_end with its messages or a session_active with its state.
func (c *Core) snapshotFromHistory(ctx context.Context, id string) []byte {
	entries, _, err := c.live.History(ctx, id, 0)
	if err != nil {
		return nil
	}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if (e.Type == protocol.AgentEventAgentEnd && member(e.Event, "messages") != nil) ||
			(e.Type == protocol.AgentEventSessionActive && member(e.Event, "state") != nil) {
			return e.Event
		}
	}
	return nil
}

// sessionGone tells the viewer its session ended and stops following it.
func (h *viewerSocket) sessionGone(why viewer.DisconnectCode) {
	id := h.leave()
	if id == "" {
		return
	}
	_ = h.conn.Send(viewer.EventDisconnected, disconnected(why).AppendJSON(nil))
	h.conn.Resume(0)
}

// leave stops following the session and returns its id ("" when already left).
func (h *viewerSocket) leave() string {
	h.mu.Lock()
	id := h.sessionID
	h.sessionID = ""
	h.mu.Unlock()
	if id != "" {
		h.c.bus.Leave(bus.SessionViewers+id, h.conn)
	}
	return id
}

func (h *viewerSocket) session() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessionID
}

// control handles the end of the session (the viewer stays connected but leaves it) and the
// return of a session the viewer waits for.
func (h *viewerSocket) control(m *bus.Message) {
	switch m.Control {
	case bus.ControlLeave:
		h.leave()
	case bus.ControlResume:
		h.mu.Lock()
		waiting := h.waiting
		h.mu.Unlock()
		if waiting {
			// Hold the session's first events until the viewer has its snapshot.
			h.conn.Pause()
			go func() {
				ctx, cancel := background()
				defer cancel()
				h.wake(ctx)
			}()
		}
	}
}

// isWaiting reports whether the viewer waits for its session to come back.
func (h *viewerSocket) isWaiting() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.waiting
}

// Connected implements viewer.ServerHandler: the viewer's greeting asks the CLI for its
// capabilities and a fresh snapshot.
func (h *viewerSocket) Connected(ctx context.Context, _ *viewer.Greeting) error {
	id := h.session()
	if id == "" {
		return nil
	}
	_, err := h.c.bus.Publish(ctx, bus.SessionCLI+id, bus.NewMessage(relay.Namespace, relay.EventConnected, []byte("{}"), 0))
	return err
}

// Resync implements viewer.ServerHandler.
func (h *viewerSocket) Resync(ctx context.Context, p *viewer.Resync) error {
	id := h.session()
	if id == "" {
		return protocol.NewError(protocol.ErrorCodeSessionEnded, "Session ended")
	}
	if h.isWaiting() {
		return nil // the snapshot comes when the session is back
	}
	var last *int64
	if v, ok := p.LastSeq.Get(); ok {
		last = &v
	}
	h.conn.Pause()
	h.catchUp(ctx, id, last, false)
	return nil
}

// forward sends a collab-mode command to the session's CLI and says whether it got there.
func (h *viewerSocket) forward(ctx context.Context, event string, payload []byte) (*viewer.CommandAck, error) {
	id := h.session()
	if id == "" {
		return nack(protocol.ErrorCodeSessionEnded, "the session has ended"), nil
	}
	if h.isWaiting() {
		return nack(protocol.ErrorCodeAgentOffline, "the agent is not connected"), nil
	}
	s, err := h.c.live.Session(ctx, id)
	if err != nil {
		return nack(protocol.ErrorCodeSessionEnded, "the session has ended"), nil
	}
	if !s.CollabMode {
		return nack(protocol.ErrorCodeCollabDisabled, "collab mode is off for this session"), nil
	}
	n, err := h.c.bus.Publish(ctx, bus.SessionCLI+id, bus.NewMessage(relay.Namespace, event, payload, 0))
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nack(protocol.ErrorCodeAgentOffline, "the agent is not connected"), nil
	}
	return &viewer.CommandAck{OK: true}, nil
}

// nack is the acknowledgement of a command that was not forwarded.
func nack(code protocol.ErrorCode, reason string) *viewer.CommandAck {
	return &viewer.CommandAck{OK: false, Code: protocol.Some(code), Error: protocol.Some(reason)}
}

// Input implements viewer.ServerHandler. Attachments are reduced to the fields the CLI uses and
// the relay always sends the array, as PizzaPi does.
func (h *viewerSocket) Input(ctx context.Context, p *protocol.Input) (*viewer.CommandAck, error) {
	in := *p
	in.Attachments = protocol.Some(attachments(p))
	return h.forward(ctx, relay.EventInput, in.AppendJSON(nil))
}

func attachments(p *protocol.Input) []protocol.Attachment {
	out := []protocol.Attachment{}
	list, _ := p.Attachments.Get()
	for _, a := range list {
		if a.AttachmentID.Or("") == "" && a.URL.Or("") == "" {
			continue
		}
		out = append(out, a)
	}
	return out
}

// ModelSet implements viewer.ServerHandler.
func (h *viewerSocket) ModelSet(ctx context.Context, p *protocol.ModelSet) (*viewer.CommandAck, error) {
	return h.forward(ctx, relay.EventModelSet, p.AppendJSON(nil))
}

// Exec implements viewer.ServerHandler.
func (h *viewerSocket) Exec(ctx context.Context, p *protocol.Exec) (*viewer.CommandAck, error) {
	return h.forward(ctx, relay.EventExec, p.AppendJSON(nil))
}

// Disconnected implements viewer.ServerSocket.
func (h *viewerSocket) Disconnected(string, bool) {
	h.c.timers.cancel("await:" + h.conn.ID())
	id := h.leave()
	if id == "" {
		return
	}
	ctx, cancel := background()
	defer cancel()
	if s, err := h.c.live.Session(ctx, id); err == nil {
		h.c.sessionStatus(ctx, s, false)
	}
}

// ensure the handler satisfies the generated interface.
var _ viewer.ServerHandler = (*viewerSocket)(nil)
