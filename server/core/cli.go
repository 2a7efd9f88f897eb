package core

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store"
)

// errInvalidToken answers an event sent with a token other than the socket's registration's.
var errInvalidToken = protocol.NewError(protocol.ErrorCodeInvalidToken, "Invalid token")

// cliSocket handles the /relay socket of a CLI (or a runner's worker) publishing one session.
type cliSocket struct {
	relay.UnimplementedServerHandler
	c    *Core
	conn Conn
	user User
	emit relay.ServerEmitter

	mu        sync.Mutex
	sessionID string
	token     string
	ephemeral bool
	ackedSeq  int64
	thinking  thinking
}

// ConnectCLI returns the handler of a new /relay socket.
func (c *Core) ConnectCLI(conn Conn, u User) *cliSocket {
	h := &cliSocket{c: c, conn: conn, user: u, emit: relay.ServerEmitter{S: conn}}
	conn.OnControl(h.control)
	return h
}

// registration returns the session registered on this socket and its token.
func (h *cliSocket) registration() (string, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessionID, h.token
}

// checkToken returns the session of this socket if token is its registration's.
func (h *cliSocket) checkToken(token string) (string, error) {
	id, want := h.registration()
	if id == "" || token != want {
		return "", errInvalidToken
	}
	return id, nil
}

// control handles messages for the CLI connection that are not events.
func (h *cliSocket) control(m *bus.Message) {
	switch m.Control {
	case bus.ControlReplace:
		if m.From == h.c.connID(h.conn) {
			return
		}
		// Another connection resumed this session: this one is stale.
		id := h.detach()
		h.c.bus.Leave(bus.SessionCLI+id, h.conn)
		h.conn.Close()
	case bus.ControlDetach:
		if m.From == h.c.connID(h.conn) {
			return
		}
		id := h.detach()
		h.c.bus.Leave(bus.SessionCLI+id, h.conn)
	case bus.ControlClose:
		h.detach()
		h.conn.Close()
	}
}

// detach forgets the registration without ending the session and returns its id.
func (h *cliSocket) detach() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.sessionID
	h.sessionID, h.token = "", ""
	if id != "" {
		h.c.held.removeSession(id)
	}
	return id
}

// Register implements relay.ServerHandler.
func (h *cliSocket) Register(ctx context.Context, p *relay.Register) (*relay.Registered, error) {
	c := h.c
	id := strings.TrimSpace(p.SessionID.Or(""))
	if id == "" {
		id = uuid.NewString()
	}
	owner, err := c.ownerOf(ctx, id)
	if err != nil {
		return nil, err
	}
	if owner != "" && owner != h.user.ID {
		c.log.Warn("refused to register a session id owned by another user", "session", id, "user", h.user.ID)
		return nil, protocol.NewError(protocol.ErrorCodeForbidden, "session id "+id+" belongs to another user")
	}
	if prev, _ := h.registration(); prev != "" && prev != id {
		h.leaveSession(ctx, prev, viewer.DisconnectCodeSessionEnded)
	}
	token := auth.NewToken(32)
	existing, err := c.live.Session(ctx, id)
	if err != nil && !errors.Is(err, live.ErrNotFound) {
		return nil, err
	}
	var s *live.Session
	resumed := false
	if existing != nil && p.Resume.Or(false) {
		s, err = c.resumeSession(ctx, id, token, c.connID(h.conn), p)
		resumed = err == nil
		if errors.Is(err, live.ErrNotFound) {
			existing, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if !resumed {
		if existing != nil {
			// The connection that held the session (a stale socket of the same CLI, say) must not
			// publish into the new one with its old token.
			_, _ = c.bus.Publish(ctx, bus.SessionCLI+id, &bus.Message{Nsp: relay.Namespace, Control: bus.ControlDetach, From: c.connID(h.conn)})
			c.endSession(ctx, id, viewer.DisconnectCodeSessionReconnected)
		}
		s, err = c.createSession(ctx, id, token, c.connID(h.conn), h.user, p)
		if err != nil {
			return nil, err
		}
	}
	h.mu.Lock()
	h.sessionID, h.token, h.ephemeral, h.ackedSeq = id, token, s.IsEphemeral, s.CLISeq
	h.thinking.reset()
	h.mu.Unlock()
	c.bus.Join(bus.SessionCLI+id, h.conn)
	c.held.addSession(id)

	reg := &relay.Registered{
		SessionID:   id,
		Token:       token,
		ShareURL:    s.ShareURL,
		IsEphemeral: s.IsEphemeral,
		CollabMode:  s.CollabMode,
		Resumed:     protocol.Some(resumed),
		AckedSeq:    protocol.Some(s.CLISeq),
	}
	if err := h.conn.Greet(relay.EventRegistered, reg.AppendJSON(nil)); err != nil {
		return nil, err
	}
	c.log.Info("session registered", "session", id, "user", h.user.ID, "resumed", resumed, "ackedSeq", s.CLISeq)
	return reg, nil
}

// resumeSession gives an existing session to a reconnected CLI, keeping its sequence numbers and
// history, and tells the connection that held it before (on any node) to let go.
func (c *Core) resumeSession(ctx context.Context, id, token, conn string, p *relay.Register) (*live.Session, error) {
	s, err := c.live.UpdateSession(ctx, id, func(s *live.Session) error {
		s.Token = token
		s.Conn = conn
		s.DisconnectedAt = nil
		s.Cwd = p.Cwd
		if name, ok := p.SessionName.Get(); ok {
			s.SessionName = name
		}
		s.ExpiresAt = c.expiry(s.IsEphemeral)
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.timers.cancel("grace:" + id)
	_, _ = c.bus.Publish(ctx, bus.SessionCLI+id, &bus.Message{Nsp: relay.Namespace, Control: bus.ControlReplace, From: conn})
	c.republishLast(ctx, s)
	c.sessionStatus(ctx, s, false)
	return s, nil
}

// republishLast publishes the session's newest event to its viewers again. A node that died
// between storing an event and publishing it (a session's events are handled one at a time, so
// there is at most one such event) would otherwise leave a gap in the numbers every viewer on
// another node sees; viewers that have the event skip it by its number.
func (c *Core) republishLast(ctx context.Context, s *live.Session) {
	if s.Seq == 0 {
		return
	}
	entries, _, err := c.live.History(ctx, s.ID, s.Seq-1)
	if err != nil || len(entries) == 0 {
		return
	}
	e := entries[len(entries)-1]
	m := bus.NewMessage(viewer.Namespace, viewer.EventEvent, viewerEventPayload(e.Event, e.Seq, false), e.Seq)
	if _, err := c.bus.Publish(ctx, bus.SessionViewers+s.ID, m); err != nil {
		c.log.Warn("republishing the newest event", "session", s.ID, "seq", e.Seq, "error", err)
	}
}

// createSession registers a new session. Its events are numbered after the numbers reserved for
// the id before (see seqBlock), so that a session registered again after its live state was lost
// never repeats a number its viewers have seen; viewers waiting for it are woken.
func (c *Core) createSession(ctx context.Context, id, token, conn string, u User, p *relay.Register) (*live.Session, error) {
	now := c.now()
	var base int64
	if rec, err := c.db.RelaySession(ctx, id); err == nil {
		base = rec.SeqReserved
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	s := &live.Session{
		ID:          id,
		UserID:      u.ID,
		UserName:    u.Name,
		Token:       token,
		Cwd:         p.Cwd,
		ShareURL:    c.shareURL(id),
		StartedAt:   now,
		IsEphemeral: p.Ephemeral.Or(true),
		CollabMode:  p.CollabMode.Or(true),
		Conn:        conn,
		Seq:         base,
	}
	if name, ok := p.SessionName.Get(); ok {
		s.SessionName = name
	}
	s.ExpiresAt = c.expiry(s.IsEphemeral)
	if runnerID, ok, err := c.live.TakeLink(ctx, id); err == nil && ok {
		if r, err := c.live.Runner(ctx, runnerID); err == nil && r.UserID == u.ID {
			s.RunnerID, s.RunnerName = &r.ID, &r.Name
		}
	}
	if err := c.live.CreateSession(ctx, s); err != nil {
		return nil, err
	}
	rec := store.RelaySession{
		ID: id, UserID: u.ID, UserName: u.Name, Cwd: p.Cwd, ShareURL: s.ShareURL,
		StartedAt: now, LastActiveAt: now, IsEphemeral: s.IsEphemeral, ExpiresAt: s.ExpiresAt,
		SeqReserved: base + seqBlock,
	}
	if err := c.db.SaveRelaySession(ctx, rec); err != nil {
		c.log.Error("persisting session", "session", id, "error", err)
	} else {
		c.marks.set(id, rec.SeqReserved)
	}
	// Viewers that connected while the session was expected back (see awaitSession) follow it now.
	if _, err := c.bus.Publish(ctx, bus.SessionViewers+id, &bus.Message{Nsp: viewer.Namespace, Control: bus.ControlResume}); err != nil {
		c.log.Warn("waking the viewers waiting for a session", "session", id, "error", err)
	}
	info := s.Info(0)
	info.ViewerCount = protocol.Optional[int64]{}
	info.ExpiresAt = protocol.Optional[*string]{}
	c.publishHub(ctx, u.ID, hub.EventSessionAdded, info.AppendJSON(nil))
	if c.notifier != nil {
		started := *s
		go func() {
			ctx, cancel := background()
			defer cancel()
			c.notifySession(ctx, NotifySessionStarted, &started)
		}()
	}
	return s, nil
}

// Event implements relay.ServerHandler: the event pipeline.
func (h *cliSocket) Event(ctx context.Context, p *relay.EventMessage) error {
	id, err := h.checkToken(p.Token)
	if err != nil {
		return err
	}
	cliSeq := p.Seq.Or(0)
	h.mu.Lock()
	ephemeral, acked := h.ephemeral, h.ackedSeq
	h.mu.Unlock()
	err = h.c.publishEvent(ctx, id, cliSeq, acked, &p.Event, ephemeral, &h.thinking)
	switch {
	case errors.Is(err, live.ErrDuplicate):
		// Already processed before a reconnect: acknowledge again, publish nothing.
	case errors.Is(err, live.ErrNotFound):
		h.detach()
		return protocol.NewError(protocol.ErrorCodeSessionExpired, "Session not found: it ended; register again")
	case err != nil:
		return err
	}
	if cliSeq > 0 {
		h.mu.Lock()
		h.ackedSeq = max(h.ackedSeq, cliSeq)
		ack := relay.EventAck{SessionID: id, Seq: h.ackedSeq}
		h.mu.Unlock()
		return h.emit.EventAck(&ack)
	}
	return nil
}

// SessionEnd implements relay.ServerHandler.
func (h *cliSocket) SessionEnd(ctx context.Context, p *relay.SessionEnd) error {
	id, err := h.checkToken(p.Token)
	if err != nil {
		return err
	}
	h.leaveSession(ctx, id, viewer.DisconnectCodeSessionEnded)
	return nil
}

// leaveSession ends the session registered on this socket.
func (h *cliSocket) leaveSession(ctx context.Context, id string, why viewer.DisconnectCode) {
	h.detach()
	h.c.bus.Leave(bus.SessionCLI+id, h.conn)
	h.c.endSession(ctx, id, why)
}

// ExecResult implements relay.ServerHandler: the reply to a viewer's command goes to the viewers.
func (h *cliSocket) ExecResult(ctx context.Context, p *protocol.ExecResult) error {
	id, _ := h.registration()
	if id == "" {
		return nil
	}
	_, err := h.c.bus.Publish(ctx, bus.SessionViewers+id, bus.NewMessage(viewer.Namespace, viewer.EventExecResult, p.AppendJSON(nil), 0))
	return err
}

// SessionMessage implements relay.ServerHandler: text for another session of the same user.
func (h *cliSocket) SessionMessage(ctx context.Context, p *relay.SendSessionMessage) (*relay.DeliveryAck, error) {
	from, err := h.checkToken(p.Token)
	if err != nil {
		return nil, err
	}
	fail := func(code protocol.ErrorCode, reason string) (*relay.DeliveryAck, error) {
		e := relay.SessionMessageError{TargetSessionID: p.TargetSessionID, Code: code, Error: reason}
		if err := h.emit.SessionMessageError(&e); err != nil {
			return nil, err
		}
		return &relay.DeliveryAck{OK: false, Code: protocol.Some(code), Error: protocol.Some(reason)}, nil
	}
	if p.TargetSessionID == "" || p.Message == "" {
		return fail(protocol.ErrorCodeInvalid, "session_message requires targetSessionId and message")
	}
	target, err := h.c.live.Session(ctx, p.TargetSessionID)
	if err != nil || target.UserID != h.user.ID {
		return fail(protocol.ErrorCodeSessionNotFound, "Target session not found or not connected")
	}
	msg := relay.SessionMessage{FromSessionID: from, Message: p.Message, Ts: live.FormatTime(h.c.now())}
	n, err := h.c.bus.Publish(ctx, bus.SessionCLI+target.ID, bus.NewMessage(relay.Namespace, relay.EventSessionMessage, msg.AppendJSON(nil), 0))
	if err != nil || n == 0 {
		return fail(protocol.ErrorCodeSessionNotFound, "Target session not found or not connected")
	}
	return &relay.DeliveryAck{OK: true}, nil
}

// Disconnected implements relay.ServerSocket. A CLI that closed the namespace on purpose ends its
// session; one whose connection dropped gets the reconnect grace period to resume it.
func (h *cliSocket) Disconnected(reason string, clientLeft bool) {
	id := h.detach()
	if id == "" {
		return
	}
	c := h.c
	c.bus.Leave(bus.SessionCLI+id, h.conn)
	ctx, cancel := background()
	defer cancel()
	if clientLeft {
		c.endSession(ctx, id, viewer.DisconnectCodeSessionEnded)
		return
	}
	now := c.now()
	s, err := c.live.UpdateSession(ctx, id, func(s *live.Session) error {
		if s.Conn != c.connID(h.conn) {
			return errStale
		}
		s.Conn = ""
		s.DisconnectedAt = &now
		s.IsActive = false
		return nil
	})
	if err != nil {
		return
	}
	c.sessionStatus(ctx, s, false)
	c.log.Info("CLI disconnected; waiting for it to resume", "session", id, "reason", reason, "grace", c.opts.ReconnectGrace)
	c.timers.after("grace:"+id, c.opts.ReconnectGrace, func() {
		ctx, cancel := background()
		defer cancel()
		c.endIfStillDisconnected(ctx, id)
	})
}

// errStale marks an update skipped because another connection took the record over.
var errStale = errors.New("stale connection")

// endIfStillDisconnected ends a session whose CLI has not come back.
func (c *Core) endIfStillDisconnected(ctx context.Context, id string) {
	s, err := c.live.Session(ctx, id)
	if err != nil || s.Conn != "" || s.DisconnectedAt == nil {
		return
	}
	c.endSession(ctx, id, viewer.DisconnectCodeSessionEnded)
}
