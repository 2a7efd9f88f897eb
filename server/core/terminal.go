package core

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/protocol/terminal"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
)

// How long terminals are kept (reference section 4.15).
const (
	terminalSpawnWait   = 60 * time.Second // created but never opened
	terminalExitWatched = 2 * time.Second  // exited with a viewer attached
	terminalExitOrphan  = 30 * time.Second // exited with no viewer: kept for a late one
)

// TerminalRequest asks for a terminal on a runner.
type TerminalRequest struct {
	RunnerID   string
	Cwd        string
	Cols, Rows int
}

// CreateTerminal records a terminal for a user's runner. The PTY is spawned when the browser
// attaches and sends its first size (deferred spawn); a terminal nobody opens is dropped after a
// minute.
func (c *Core) CreateTerminal(ctx context.Context, userID string, req TerminalRequest) (string, error) {
	r, err := c.runnerFor(ctx, userID, req.RunnerID)
	if err != nil {
		return "", err
	}
	if req.Cwd != "" && !insideRoots(req.Cwd, r.Roots) {
		return "", protocol.NewError(protocol.ErrorCodeInvalid, "Runner cannot access cwd: "+req.Cwd)
	}
	if req.Cols <= 0 {
		req.Cols = 80
	}
	if req.Rows <= 0 {
		req.Rows = 24
	}
	t := &live.Terminal{ID: uuid.NewString(), RunnerID: r.ID, UserID: userID, Cwd: req.Cwd, Cols: req.Cols, Rows: req.Rows, CreatedAt: c.now()}
	if err := c.live.PutTerminal(ctx, t); err != nil {
		return "", err
	}
	c.timers.after("term:"+t.ID, terminalSpawnWait, func() {
		ctx, cancel := background()
		defer cancel()
		if t, err := c.live.Terminal(ctx, t.ID); err == nil && !t.Spawned {
			_, _ = c.live.DeleteTerminal(ctx, t.ID)
		}
	})
	return t.ID, nil
}

// dropTerminalLater deletes a terminal after d.
func (c *Core) dropTerminalLater(id string, d time.Duration) {
	c.timers.after("term:"+id, d, func() {
		ctx, cancel := background()
		defer cancel()
		_, _ = c.live.DeleteTerminal(ctx, id)
	})
}

// terminalSocket is a /terminal socket attached to one terminal.
type terminalSocket struct {
	terminal.UnimplementedServerHandler
	c    *Core
	conn Conn
	user User
	id   string
}

// ConnectTerminal attaches a browser to a terminal of its user: buffered output is replayed, then
// terminal_connected is sent. A nil handler means the socket was refused and closed.
func (c *Core) ConnectTerminal(ctx context.Context, conn Conn, u User, auth *terminal.Auth) *terminalSocket {
	id, _ := auth.TerminalID.Get()
	fail := func(code protocol.ErrorCode, msg string) *terminalSocket {
		e := protocol.TerminalError{TerminalID: id, Code: protocol.Some(code), Message: msg}
		_ = conn.Send(terminal.EventTerminalError, e.AppendJSON(nil))
		conn.Close()
		return nil
	}
	if id == "" {
		return fail(protocol.ErrorCodeInvalid, "Missing terminal ID")
	}
	t, err := c.live.Terminal(ctx, id)
	if err != nil {
		return fail(protocol.ErrorCodeTerminalNotFound, "Terminal not found")
	}
	if t.UserID != u.ID {
		return fail(protocol.ErrorCodeForbidden, "Forbidden")
	}
	h := &terminalSocket{c: c, conn: conn, user: u, id: id}
	conn.OnControl(h.control)
	_, _ = c.bus.Publish(ctx, bus.Terminal+id, &bus.Message{Nsp: terminal.Namespace, Control: bus.ControlReplace, From: conn.ID()})
	conn.Pause()
	c.bus.Join(bus.Terminal+id, conn)
	held, _ := c.live.TakeOutput(ctx, id)
	for _, o := range held {
		_ = conn.Send(o.Event, o.Payload)
	}
	done := terminal.TerminalConnected{TerminalID: id}
	_ = conn.Greet(terminal.EventTerminalConnected, done.AppendJSON(nil))
	conn.Resume(0)
	if t.Exited {
		c.dropTerminalLater(id, terminalExitWatched)
	}
	return h
}

// control closes this socket when another one attached to the terminal.
func (h *terminalSocket) control(m *bus.Message) {
	if m.Control == bus.ControlReplace && m.From != h.conn.ID() {
		h.c.bus.Leave(bus.Terminal+h.id, h.conn)
		h.conn.Close()
	}
}

// errTerminalNotFound answers an event about a terminal that is gone.
var errTerminalNotFound = protocol.NewError(protocol.ErrorCodeTerminalNotFound, "Terminal not found")

// toRunner sends a command about this terminal to its runner.
func (h *terminalSocket) toRunner(ctx context.Context, t *live.Terminal, event string, payload []byte) error {
	n, err := h.c.bus.Publish(ctx, bus.Runner+t.RunnerID, bus.NewMessage(runner.Namespace, event, payload, 0))
	if err != nil {
		return err
	}
	if n == 0 {
		return errRunnerGone
	}
	return nil
}

// TerminalResize implements terminal.ServerHandler. The first size spawns the PTY.
func (h *terminalSocket) TerminalResize(ctx context.Context, p *terminal.TerminalResize) error {
	spawn := false
	t, err := h.c.live.UpdateTerminal(ctx, h.id, func(t *live.Terminal) error {
		spawn = !t.Spawned
		t.Spawned = true
		t.Cols, t.Rows = int(p.Cols), int(p.Rows)
		return nil
	})
	if err != nil {
		return errTerminalNotFound
	}
	if !spawn {
		r := runner.TerminalResize{TerminalID: h.id, Cols: p.Cols, Rows: p.Rows}
		return h.toRunner(ctx, t, runner.EventTerminalResize, r.AppendJSON(nil))
	}
	h.c.timers.cancel("term:" + h.id)
	nt := runner.NewTerminal{TerminalID: h.id, Cols: protocol.Some(p.Cols), Rows: protocol.Some(p.Rows)}
	if t.Cwd != "" {
		nt.Cwd = protocol.Some(t.Cwd)
	}
	if err := h.toRunner(ctx, t, runner.EventNewTerminal, nt.AppendJSON(nil)); err != nil {
		e := protocol.TerminalError{TerminalID: h.id, Code: protocol.Some(protocol.ErrorCodeRunnerOffline), Message: "Failed to spawn terminal"}
		return h.conn.Send(terminal.EventTerminalError, e.AppendJSON(nil))
	}
	return nil
}

// TerminalInput implements terminal.ServerHandler.
func (h *terminalSocket) TerminalInput(ctx context.Context, p *terminal.TerminalInput) error {
	t, err := h.c.live.Terminal(ctx, h.id)
	if err != nil {
		return errTerminalNotFound
	}
	in := runner.TerminalInput{TerminalID: h.id, Data: p.Data}
	return h.toRunner(ctx, t, runner.EventTerminalInput, in.AppendJSON(nil))
}

// KillTerminal implements terminal.ServerHandler.
func (h *terminalSocket) KillTerminal(ctx context.Context, _ *terminal.KillTerminal) error {
	t, err := h.c.live.Terminal(ctx, h.id)
	if err != nil {
		return errTerminalNotFound
	}
	k := runner.KillTerminal{TerminalID: h.id}
	return h.toRunner(ctx, t, runner.EventKillTerminal, k.AppendJSON(nil))
}

// Disconnected implements terminal.ServerSocket: an exited terminal goes with its viewer.
func (h *terminalSocket) Disconnected(string, bool) {
	h.c.bus.Leave(bus.Terminal+h.id, h.conn)
	ctx, cancel := background()
	defer cancel()
	if t, err := h.c.live.Terminal(ctx, h.id); err == nil && t.Exited {
		h.c.timers.cancel("term:" + h.id)
		_, _ = h.c.live.DeleteTerminal(ctx, h.id)
	}
}

// terminalOutput forwards a runner's message about one of its terminals to the attached viewer,
// or keeps it until one attaches.
func (c *Core) terminalOutput(ctx context.Context, runnerID, terminalID, event string, payload []byte) {
	t, err := c.live.Terminal(ctx, terminalID)
	if err != nil || t.RunnerID != runnerID {
		return
	}
	n, err := c.bus.Publish(ctx, bus.Terminal+terminalID, bus.NewMessage(terminal.Namespace, event, payload, 0))
	if err != nil {
		c.log.Warn("forwarding terminal output", "terminal", terminalID, "error", err)
	}
	if n == 0 {
		if err := c.live.BufferOutput(ctx, terminalID, live.Output{Event: event, Payload: payload}, c.opts.TerminalBuffer); err != nil {
			c.log.Warn("buffering terminal output", "terminal", terminalID, "error", err)
		}
	}
	if event == terminal.EventTerminalExit {
		_, _ = c.live.UpdateTerminal(ctx, terminalID, func(t *live.Terminal) error {
			t.Exited = true
			return nil
		})
		if n > 0 {
			c.dropTerminalLater(terminalID, terminalExitWatched)
		} else {
			c.dropTerminalLater(terminalID, terminalExitOrphan)
		}
	}
}

// TerminalReady implements runner.ServerHandler.
func (h *runnerSocket) TerminalReady(ctx context.Context, p *protocol.TerminalReady) error {
	return h.terminal(ctx, p.TerminalID, terminal.EventTerminalReady, p.AppendJSON(nil))
}

// TerminalData implements runner.ServerHandler.
func (h *runnerSocket) TerminalData(ctx context.Context, p *protocol.TerminalData) error {
	return h.terminal(ctx, p.TerminalID, terminal.EventTerminalData, p.AppendJSON(nil))
}

// TerminalExit implements runner.ServerHandler.
func (h *runnerSocket) TerminalExit(ctx context.Context, p *protocol.TerminalExit) error {
	return h.terminal(ctx, p.TerminalID, terminal.EventTerminalExit, p.AppendJSON(nil))
}

// TerminalError implements runner.ServerHandler.
func (h *runnerSocket) TerminalError(ctx context.Context, p *protocol.TerminalError) error {
	return h.terminal(ctx, p.TerminalID, terminal.EventTerminalError, p.AppendJSON(nil))
}

func (h *runnerSocket) terminal(ctx context.Context, terminalID, event string, payload []byte) error {
	id, err := h.registered()
	if err != nil {
		return err
	}
	h.c.terminalOutput(ctx, id, terminalID, event, payload)
	return nil
}
