package core

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/server/bus"
)

// SpawnRequest asks a runner to start an agent session.
type SpawnRequest struct {
	RunnerID string
	Cwd      string
	Prompt   string
	Model    *protocol.ModelInfo
}

// SpawnResult is the outcome of a spawn: Pending when the runner had not answered in time.
type SpawnResult struct {
	RunnerID  string
	SessionID string
	Pending   bool
}

// Spawn asks a user's runner to start a session and waits briefly for its answer.
func (c *Core) Spawn(ctx context.Context, userID string, req SpawnRequest) (*SpawnResult, error) {
	r, err := c.runnerFor(ctx, userID, req.RunnerID)
	if err != nil {
		return nil, err
	}
	if req.Cwd != "" && !insideRoots(req.Cwd, r.Roots) {
		return nil, protocol.NewError(protocol.ErrorCodeInvalid, "Runner cannot access cwd: "+req.Cwd)
	}
	id := uuid.NewString()
	answer := make(chan *bus.Message, 1)
	waiter := &funcMember{fn: func(m *bus.Message) {
		select {
		case answer <- m:
		default:
		}
	}}
	c.bus.Join(bus.Spawn+id, waiter)
	defer c.bus.Leave(bus.Spawn+id, waiter)

	p := runner.NewSession{SessionID: id}
	if req.Cwd != "" {
		p.Cwd = protocol.Some(req.Cwd)
	}
	if req.Prompt != "" {
		p.Prompt = protocol.Some(req.Prompt)
	}
	if req.Model != nil {
		p.Model = protocol.Some(*req.Model)
	}
	n, err := c.bus.Publish(ctx, bus.Runner+r.ID, bus.NewMessage(runner.Namespace, runner.EventNewSession, p.AppendJSON(nil), 0))
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errRunnerGone
	}
	if req.Cwd != "" {
		if err := c.db.AddRecentFolder(ctx, r.ID, req.Cwd, c.now()); err != nil {
			c.log.Warn("recording a recent folder", "runner", r.ID, "error", err)
		}
	}
	res := &SpawnResult{RunnerID: r.ID, SessionID: id}
	t := time.NewTimer(c.opts.SpawnWait)
	defer t.Stop()
	select {
	case m := <-answer:
		if m.Event == runner.EventSessionError {
			var e runner.SessionError
			_ = e.UnmarshalJSON(m.Payload)
			return nil, protocol.NewError(protocol.ErrorCodeInvalid, e.Message)
		}
	case <-t.C:
		res.Pending = true
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return res, nil
}

// RestartRunner asks a user's runner to restart.
func (c *Core) RestartRunner(ctx context.Context, userID, runnerID string) error {
	r, err := c.runnerFor(ctx, userID, runnerID)
	if err != nil {
		return err
	}
	n, err := c.bus.Publish(ctx, bus.Runner+r.ID, bus.NewMessage(runner.Namespace, runner.EventRestart, []byte("{}"), 0))
	if err != nil {
		return err
	}
	if n == 0 {
		return errRunnerGone
	}
	return nil
}

// RunnerCommand sends a request/response command (skills, files, git) to a user's runner and
// returns its reply. build encodes the command around the request id.
func (c *Core) RunnerCommand(ctx context.Context, userID, runnerID, event string, build func(requestID string) []byte, timeout time.Duration) ([]byte, error) {
	r, err := c.runnerFor(ctx, userID, runnerID)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = c.opts.RequestTimeout
	}
	return c.request(ctx, r.ID, event, build, timeout)
}

// RunnerSkills returns the skills a user's runner reported.
func (c *Core) RunnerSkills(ctx context.Context, userID, runnerID string) ([]protocol.RunnerSkill, error) {
	r, err := c.runnerFor(ctx, userID, runnerID)
	if err != nil {
		return nil, err
	}
	return r.Skills, nil
}

// RecentFolders lists where sessions were recently started on a user's runner (connected or
// known from an earlier registration).
func (c *Core) RecentFolders(ctx context.Context, userID, runnerID string) ([]string, error) {
	owner := ""
	if r, err := c.live.Runner(ctx, runnerID); err == nil {
		owner = r.UserID
	} else if rec, err := c.db.Runner(ctx, runnerID); err == nil {
		owner = rec.UserID
	}
	switch owner {
	case "":
		return nil, errRunnerNotFound
	case userID:
	default:
		return nil, errForbidden
	}
	folders, err := c.db.RecentFolders(ctx, runnerID, 20)
	if folders == nil {
		folders = []string{}
	}
	return folders, err
}
