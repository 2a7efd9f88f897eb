package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/viewer"
)

// execTimeout bounds the wait for a command's result (a compaction runs a model call).
const execTimeout = 2 * time.Minute

// executor runs exec commands on the session's agent over the viewer connection: it implements
// commands.Executor, so that commands.Caller{X: executor} decodes each result with its type.
type executor struct {
	client  protocol.AckSender
	mu      sync.Mutex
	n       int
	pending map[string]chan *protocol.ExecResult
}

func newExecutor(c protocol.AckSender) *executor {
	return &executor{client: c, pending: map[string]chan *protocol.ExecResult{}}
}

// Exec implements commands.Executor.
func (x *executor) Exec(ctx context.Context, command string, params []byte) (json.RawMessage, error) {
	x.mu.Lock()
	x.n++
	id := "watch-" + strconv.Itoa(x.n)
	ch := make(chan *protocol.ExecResult, 1)
	x.pending[id] = ch
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		delete(x.pending, id)
		x.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, execTimeout)
	defer cancel()
	e := &protocol.Exec{ID: id, Command: command}
	if err := json.Unmarshal(params, &e.Extra); err != nil {
		return nil, fmt.Errorf("the parameters of %s: %w", command, err)
	}
	ack, err := viewer.ClientEmitter{S: x.client}.Exec(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("not sent: %w", err)
	}
	if !ack.OK {
		return nil, failure(ack.Code, ack.Error.Or("the relay did not pass the command on"))
	}
	select {
	case r := <-ch:
		if !r.OK {
			return nil, failure(r.Code, r.Error.Or("the command failed"))
		}
		return r.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no answer from the agent: %w", ctx.Err())
	}
}

// failure is the error of a failure the relay or the agent reported: a *protocol.Error with its
// code, so that callers decide on the code, or a plain error when the peer sent none (PizzaPi's
// agents).
func failure(code protocol.Optional[protocol.ErrorCode], message string) error {
	if c, ok := code.Get(); ok {
		return protocol.NewError(c, message)
	}
	return errors.New(message)
}

// resolve hands an exec_result to the command waiting for it; it reports false when none is.
func (x *executor) resolve(r *protocol.ExecResult) bool {
	x.mu.Lock()
	ch, ok := x.pending[r.ID]
	x.mu.Unlock()
	if ok {
		ch <- r
	}
	return ok
}

// slashCommand runs a line starting with "/" as a command and returns what to print.
func slashCommand(ctx context.Context, c commands.Caller, line string) string {
	name, arg, _ := strings.Cut(strings.TrimPrefix(line, "/"), " ")
	arg = strings.TrimSpace(arg)
	failed := func(err error) string { return "/" + name + " failed: " + err.Error() }
	switch name {
	case "stop":
		if err := c.Abort(ctx, &commands.AbortParams{}); err != nil {
			return failed(err)
		}
		return "stopped the agent"
	case "new":
		if err := c.NewSession(ctx, &commands.NewSessionParams{}); err != nil {
			return failed(err)
		}
		return "started a new session"
	case "name":
		if arg == "" {
			return "usage: /name NEW NAME"
		}
		r, err := c.SetSessionName(ctx, &commands.SetSessionNameParams{Name: arg})
		if err != nil {
			return failed(err)
		}
		return "renamed the session to " + r.SessionName
	case "thinking":
		var r *commands.ThinkingLevelResult
		var err error
		if arg == "" {
			r, err = c.CycleThinkingLevel(ctx, &commands.CycleThinkingLevelParams{})
		} else {
			level := commands.ThinkingLevel(arg)
			if !level.Valid() {
				return "usage: /thinking [off|minimal|low|medium|high|xhigh]"
			}
			r, err = c.SetThinkingLevel(ctx, &commands.SetThinkingLevelParams{Level: level})
		}
		if err != nil {
			return failed(err)
		}
		if r.ThinkingLevel == nil {
			return "the model does not think"
		}
		return "thinking level: " + string(*r.ThinkingLevel)
	case "model":
		if arg == "" {
			m, err := c.CycleModel(ctx, &commands.CycleModelParams{})
			if err != nil {
				return failed(err)
			}
			if m == nil {
				return "the agent has no other model"
			}
			return "model: " + m.Provider + "/" + m.ID
		}
		provider, id, ok := strings.Cut(arg, "/")
		if !ok || provider == "" || id == "" {
			return "usage: /model [PROVIDER/MODEL-ID]"
		}
		if err := c.SetModel(ctx, &commands.SetModelParams{Provider: provider, ModelID: id}); err != nil {
			return failed(err)
		}
		return "model: " + arg
	case "compact":
		p := &commands.CompactParams{}
		if arg != "" {
			p.CustomInstructions = protocol.Some(arg)
		}
		r, err := c.Compact(ctx, p)
		if err != nil {
			return failed(err)
		}
		if r == nil {
			return "nothing to compact"
		}
		return "compacted the conversation"
	}
	return "unknown command /" + name + " (try /stop, /new, /name, /thinking, /model, /compact; start with // to send a slash)"
}
