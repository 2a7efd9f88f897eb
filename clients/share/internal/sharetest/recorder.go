package sharetest

import (
	"context"
	"encoding/json"

	"github.com/pizzapi/pizzapi/protocol/commands"
)

// Recorder is a commands.Executor that runs each command through X and remembers which ran.
type Recorder struct {
	X   commands.Executor
	Ran []string
}

// Exec implements commands.Executor.
func (r *Recorder) Exec(ctx context.Context, command string, params []byte) (json.RawMessage, error) {
	r.Ran = append(r.Ran, command)
	return r.X.Exec(ctx, command, params)
}
