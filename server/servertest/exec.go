package servertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/viewer"
)

// Executor runs exec commands on a session's agent through a /viewer connection. It implements
// commands.Executor, so that commands.Caller{X: executor} runs each command of the contract and
// decodes its result with the command's generated type. It takes the connection's exec_result
// events; a test should not read them itself meanwhile.
type Executor struct {
	// C is a viewer connection to the session.
	C *Conn
	n int
}

// Exec implements commands.Executor: it sends the command, checks that the relay forwarded it
// and waits for the agent's exec_result with its id (or the test's timeout). A failed command is
// an error carrying the agent's message and, when the agent sent one, its code.
func (x *Executor) Exec(ctx context.Context, command string, params []byte) (json.RawMessage, error) {
	x.n++
	id := fmt.Sprintf("exec-%d", x.n)
	e := &protocol.Exec{ID: id, Command: command}
	if err := json.Unmarshal(params, &e.Extra); err != nil {
		return nil, fmt.Errorf("the parameters of %s: %w", command, err)
	}
	ack, err := viewer.ClientEmitter{S: x.C}.Exec(ctx, e)
	if err != nil {
		return nil, err
	}
	if !ack.OK {
		return nil, fmt.Errorf("the relay did not forward %s: %w", command, failure(ack.Code, ack.Error.Or("no reason")))
	}
	for {
		var r protocol.ExecResult
		x.C.NextInto(x.C.t, viewer.EventExecResult, &r)
		if r.ID != id {
			continue
		}
		if r.Command != command {
			return nil, fmt.Errorf("exec_result of %s answers %s", id, r.Command)
		}
		if !r.OK {
			return nil, failure(r.Code, r.Error.Or("the command failed"))
		}
		return r.Result, nil
	}
}

// failure is the error of a failure the relay or the agent reported: a *protocol.Error when it
// came with a code.
func failure(code protocol.Optional[protocol.ErrorCode], message string) error {
	if c, ok := code.Get(); ok {
		return protocol.NewError(c, message)
	}
	return errors.New(message)
}
