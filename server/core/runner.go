package core

import (
	"context"
	"crypto/subtle"
	"errors"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/protocol/terminal"
	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store"
)

// linkTTL is how long a spawned session may take to register before its runner link is dropped.
const linkTTL = 10 * time.Minute

// runnerSocket handles the /runner socket of a runner daemon.
type runnerSocket struct {
	runner.UnimplementedServerHandler
	c    *Core
	conn Conn
	user User
	emit runner.ServerEmitter

	mu       sync.Mutex
	runnerID string
	record   *live.Runner // what this socket registered, to put again if the store lost it
}

// ConnectRunner returns the handler of a new /runner socket.
func (c *Core) ConnectRunner(conn Conn, u User) *runnerSocket {
	h := &runnerSocket{c: c, conn: conn, user: u, emit: runner.ServerEmitter{S: conn}}
	conn.OnControl(h.control)
	return h
}

func (h *runnerSocket) id() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runnerID
}

// control closes this connection when the runner registered again on another one.
func (h *runnerSocket) control(m *bus.Message) {
	if m.Control == bus.ControlReplace && m.From != h.conn.ID() {
		h.mu.Lock()
		id := h.runnerID
		h.runnerID = ""
		h.mu.Unlock()
		h.c.held.removeRunner(id, h)
		h.conn.Close()
	}
}

// normalizeRoot turns a workspace root into a clean, slash-separated path.
func normalizeRoot(r string) string {
	r = strings.ReplaceAll(strings.TrimSpace(r), `\`, "/")
	if r == "" {
		return ""
	}
	return path.Clean(r)
}

// RegisterRunner implements runner.ServerHandler. A runner with an id and a secret keeps its
// identity across restarts: the secret is stored hashed and checked on every registration, and a
// runner id belongs to the user who first registered it.
func (h *runnerSocket) RegisterRunner(ctx context.Context, p *runner.RegisterRunner) error {
	c := h.c
	id, secret := p.RunnerID.Or(""), p.RunnerSecret.Or("")
	now := c.now()
	name := strings.TrimSpace(p.Name.Or(""))
	if id != "" && secret != "" {
		rec, err := c.db.Runner(ctx, id)
		switch {
		case err == nil:
			if rec.UserID != h.user.ID || subtle.ConstantTimeCompare(rec.SecretHash, auth.HashSecret(secret)) != 1 {
				c.log.Warn("runner authentication failed", "runner", id, "user", h.user.ID)
				_ = h.emit.Error(&protocol.ErrorMessage{Code: protocol.ErrorCodeRunnerSecretMismatch, Message: "Runner authentication failed: secret mismatch for runner " + id})
				h.conn.Close()
				return nil
			}
			rec.Name, rec.LastSeenAt = name, now
			err = c.db.SaveRunner(ctx, rec)
			if err != nil {
				return err
			}
		case errors.Is(err, store.ErrNotFound):
			err = c.db.SaveRunner(ctx, store.Runner{ID: id, UserID: h.user.ID, SecretHash: auth.HashSecret(secret), Name: name, CreatedAt: now, LastSeenAt: now})
			if err != nil {
				return err
			}
		default:
			return err
		}
	} else {
		id = uuid.NewString()
	}
	if name == "" {
		name = "runner-" + id[:min(8, len(id))]
	}
	var roots []string
	for _, r := range p.Roots.Or(nil) {
		if r = normalizeRoot(r); r != "" {
			roots = append(roots, r)
		}
	}
	r := &live.Runner{ID: id, UserID: h.user.ID, UserName: h.user.Name, Name: name, Roots: roots,
		Skills: validSkills(p.Skills.Or(nil)), Conn: c.connID(h.conn), ConnectedAt: now}
	if prev := h.id(); prev != "" && prev != id {
		h.Disconnected("re-registered", false)
	}
	// The socket joins before the record is stored, so that a command sent as soon as the runner
	// is listed reaches it; an earlier socket of the runner is replaced once the record names
	// this one (its node then keeps the runner's terminals).
	c.bus.Join(bus.Runner+id, h.conn)
	if err := c.live.PutRunner(ctx, r); err != nil {
		c.bus.Leave(bus.Runner+id, h.conn)
		return err
	}
	_, _ = c.bus.Publish(ctx, bus.Runner+id, &bus.Message{Nsp: runner.Namespace, Control: bus.ControlReplace, From: h.conn.ID()})
	h.mu.Lock()
	h.runnerID, h.record = id, r
	h.mu.Unlock()
	c.held.addRunner(id, h)
	c.log.Info("runner registered", "runner", id, "user", h.user.ID, "name", name)
	reg := runner.RunnerRegistered{RunnerID: id}
	return h.conn.Greet(runner.EventRunnerRegistered, reg.AppendJSON(nil))
}

// validSkills drops skills without a name, as PizzaPi does.
func validSkills(in []protocol.RunnerSkill) []protocol.RunnerSkill {
	out := []protocol.RunnerSkill{}
	for _, s := range in {
		if s.Name != "" {
			out = append(out, s)
		}
	}
	return out
}

// registered returns the runner id of this socket or an error when it has not registered.
func (h *runnerSocket) registered() (string, error) {
	id := h.id()
	if id == "" {
		return "", protocol.NewError(protocol.ErrorCodeInvalid, "register_runner first")
	}
	return id, nil
}

// SkillsList implements runner.ServerHandler.
func (h *runnerSocket) SkillsList(ctx context.Context, p *runner.SkillsList) error {
	id, err := h.registered()
	if err != nil {
		return err
	}
	if err := h.c.live.SetRunnerSkills(ctx, id, validSkills(p.Skills)); err != nil {
		return err
	}
	h.answer(ctx, p.RequestID, p.AppendJSON(nil))
	return nil
}

// SkillResult implements runner.ServerHandler.
func (h *runnerSocket) SkillResult(ctx context.Context, p *runner.SkillResult) error {
	id, err := h.registered()
	if err != nil {
		return err
	}
	if skills, ok := p.Skills.Get(); ok {
		if err := h.c.live.SetRunnerSkills(ctx, id, validSkills(skills)); err != nil {
			return err
		}
	}
	h.answer(ctx, p.RequestID, p.AppendJSON(nil))
	return nil
}

// FileResult implements runner.ServerHandler.
func (h *runnerSocket) FileResult(ctx context.Context, p *runner.FileResult) error {
	h.answer(ctx, p.RequestID, p.AppendJSON(nil))
	return nil
}

// SessionsList implements runner.ServerHandler.
func (h *runnerSocket) SessionsList(ctx context.Context, p *runner.SessionsList) error {
	h.answer(ctx, p.RequestID, p.AppendJSON(nil))
	return nil
}

// Pong implements runner.ServerHandler.
func (h *runnerSocket) Pong(ctx context.Context, p *runner.Pong) error {
	h.answer(ctx, p.RequestID, p.AppendJSON(nil))
	return nil
}

// TerminalsList implements runner.ServerHandler.
func (h *runnerSocket) TerminalsList(ctx context.Context, p *runner.TerminalsList) error {
	h.answer(ctx, p.RequestID, p.AppendJSON(nil))
	return nil
}

// answer routes a reply that carries a request id to whoever asked.
func (h *runnerSocket) answer(ctx context.Context, requestID protocol.Optional[string], payload []byte) {
	if id, ok := requestID.Get(); ok && id != "" {
		h.c.reply(ctx, id, payload)
	}
}

// RunnerSessionEvent implements runner.ServerHandler: a (legacy) runner publishing an event of a
// session it spawned.
func (h *runnerSocket) RunnerSessionEvent(ctx context.Context, p *runner.RunnerSessionEvent) error {
	id, err := h.registered()
	if err != nil {
		return err
	}
	s, err := h.c.live.Session(ctx, p.SessionID)
	if err != nil || s.UserID != h.user.ID || s.RunnerID == nil || *s.RunnerID != id {
		return protocol.NewError(protocol.ErrorCodeSessionNotFound, "Session not found")
	}
	return h.c.publishEvent(ctx, s.ID, 0, 0, &p.Event, s.IsEphemeral, &thinking{})
}

// SessionReady implements runner.ServerHandler: the runner started a worker for a session.
func (h *runnerSocket) SessionReady(ctx context.Context, p *runner.SessionReady) error {
	id, err := h.registered()
	if err != nil {
		return err
	}
	h.c.linkRunner(ctx, p.SessionID, id, h.user.ID)
	h.c.spawnReport(ctx, p.SessionID, runner.EventSessionReady, p.AppendJSON(nil))
	return nil
}

// SessionError implements runner.ServerHandler: the runner could not start a session.
func (h *runnerSocket) SessionError(ctx context.Context, p *runner.SessionError) error {
	if _, err := h.registered(); err != nil {
		return err
	}
	if p.Message == "" {
		p.Message = "Runner spawn failed"
	}
	h.c.spawnReport(ctx, p.SessionID, runner.EventSessionError, p.AppendJSON(nil))
	return nil
}

// SessionKilled implements runner.ServerHandler: the session's worker was stopped.
func (h *runnerSocket) SessionKilled(ctx context.Context, p *runner.SessionKilled) error {
	id, err := h.registered()
	if err != nil {
		return err
	}
	_, _ = h.c.live.UpdateSession(ctx, p.SessionID, func(s *live.Session) error {
		if s.RunnerID == nil || *s.RunnerID != id {
			return errUnchanged
		}
		s.RunnerID, s.RunnerName = nil, nil
		return nil
	})
	return nil
}

// linkRunner records that a runner spawned a session: on the live session when the worker has
// registered already, as a pending link otherwise.
func (c *Core) linkRunner(ctx context.Context, sessionID, runnerID, userID string) {
	r, err := c.live.Runner(ctx, runnerID)
	if err != nil {
		return
	}
	s, err := c.live.UpdateSession(ctx, sessionID, func(s *live.Session) error {
		if s.UserID != userID {
			return errForbidden
		}
		s.RunnerID, s.RunnerName = &r.ID, &r.Name
		return nil
	})
	switch {
	case err == nil:
		c.sessionStatus(ctx, s, true)
	case errors.Is(err, live.ErrNotFound):
		if err := c.live.SetLink(ctx, sessionID, runnerID, linkTTL); err != nil {
			c.log.Warn("recording a runner link", "session", sessionID, "error", err)
		}
	}
}

// spawnReport tells whoever waits on a spawn how it went: event is session_ready or
// session_error with the runner's payload.
func (c *Core) spawnReport(ctx context.Context, sessionID, event string, payload []byte) {
	_, _ = c.bus.Publish(ctx, bus.Spawn+sessionID, &bus.Message{Event: event, Payload: payload})
}

// Disconnected implements runner.ServerSocket: the runner is gone, and so are its terminals. A runner
// that has already registered again on another connection is left alone.
func (h *runnerSocket) Disconnected(string, bool) {
	h.mu.Lock()
	id := h.runnerID
	h.runnerID = ""
	h.mu.Unlock()
	if id == "" {
		return
	}
	c := h.c
	c.held.removeRunner(id, h)
	c.bus.Leave(bus.Runner+id, h.conn)
	ctx, cancel := background()
	defer cancel()
	deleted, err := c.live.DeleteRunner(ctx, id, c.connID(h.conn))
	if err != nil || !deleted {
		return
	}
	terms, _ := c.live.RunnerTerminals(ctx, id)
	for _, t := range terms {
		exit := protocol.TerminalExit{TerminalID: t.ID, ExitCode: -1}
		_, _ = c.bus.Publish(ctx, bus.Terminal+t.ID, bus.NewMessage(terminal.Namespace, terminal.EventTerminalExit, exit.AppendJSON(nil), 0))
		_, _ = c.live.DeleteTerminal(ctx, t.ID)
	}
	c.log.Info("runner disconnected", "runner", id, "terminals", len(terms))
}

// runnerFor returns a connected runner of the user.
func (c *Core) runnerFor(ctx context.Context, userID, runnerID string) (*live.Runner, error) {
	if runnerID == "" {
		return nil, protocol.NewError(protocol.ErrorCodeInvalid, "Missing runnerId")
	}
	r, err := c.live.Runner(ctx, runnerID)
	if errors.Is(err, live.ErrNotFound) {
		return nil, errRunnerNotFound
	}
	if err != nil {
		return nil, err
	}
	if r.UserID != userID {
		return nil, errForbidden
	}
	return r, nil
}

// Runners lists a user's connected runners.
func (c *Core) Runners(ctx context.Context, userID string) ([]protocol.RunnerInfo, error) {
	runners, err := c.live.UserRunners(ctx, userID)
	if err != nil {
		return nil, err
	}
	sessions, err := c.live.UserSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]protocol.RunnerInfo, 0, len(runners))
	for _, r := range runners {
		n := 0
		for _, s := range sessions {
			if s.RunnerID != nil && *s.RunnerID == r.ID {
				n++
			}
		}
		name := r.Name
		roots := r.Roots
		if roots == nil {
			roots = []string{}
		}
		out = append(out, protocol.RunnerInfo{RunnerID: r.ID, Name: &name, Roots: roots, SessionCount: int64(n), Skills: r.Skills})
	}
	return out, nil
}

// insideRoots reports whether dir is one of roots or below one (an empty root list allows all).
func insideRoots(dir string, roots []string) bool {
	if len(roots) == 0 {
		return true
	}
	dir = normalizeRoot(dir)
	for _, r := range roots {
		if dir == r || strings.HasPrefix(dir, strings.TrimSuffix(r, "/")+"/") {
			return true
		}
	}
	return false
}
