package servertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
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
// an error carrying the agent's message.
func (x *Executor) Exec(ctx context.Context, command string, params []byte) (json.RawMessage, error) {
	x.n++
	id := fmt.Sprintf("exec-%d", x.n)
	raw, err := x.C.SendWithAck(ctx, viewer.EventExec, commands.AppendExec(nil, id, command, params))
	if err != nil {
		return nil, err
	}
	var ack viewer.CommandAck
	if err := ack.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	if !ack.OK {
		return nil, fmt.Errorf("the relay did not forward %s: %s", command, ack.Error.Or("no reason"))
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
			return nil, errors.New(r.Error.Or("the command failed"))
		}
		return r.Result, nil
	}
}
