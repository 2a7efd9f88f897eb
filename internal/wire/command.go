package wire

import (
	"context"
	"encoding/json"
	"errors"
)

// ErrUnknownCommand is wrapped by the error for an exec command the contract does not define.
var ErrUnknownCommand = errors.New("unknown exec command")

// CommandError is an exec command that cannot be carried out: the contract does not define it,
// the agent does not implement it, or its parameters (or, for the viewer, its result) do not
// match the contract. Its text is what the viewer is told.
type CommandError struct {
	// Command is the command's name.
	Command string
	// Pointer is the JSON pointer of the offending parameter (or result value), "" for none.
	Pointer string
	// Message says what is wrong, for people.
	Message string
	// kind is ErrUnknownCommand, ErrUnimplemented or nil.
	kind error
}

// Error returns the message: for an unknown command PizzaPi's "Unknown exec command: NAME".
func (e *CommandError) Error() string {
	if e.Pointer != "" {
		return e.Message + " at " + e.Pointer
	}
	return e.Message
}

// Unwrap returns ErrUnknownCommand or ErrUnimplemented for those kinds of failure.
func (e *CommandError) Unwrap() error { return e.kind }

// UnknownCommand returns the error for a command the contract does not define.
func UnknownCommand(command string) error {
	return &CommandError{Command: command, Message: "Unknown exec command: " + command, kind: ErrUnknownCommand}
}

// UnimplementedCommand returns the error of a handler that does not implement command.
func UnimplementedCommand(command string) error {
	return &CommandError{Command: command, Message: command + " is not supported by this agent", kind: ErrUnimplemented}
}

// DecodeParams decodes and validates the parameters of command (the members of an exec payload
// beside id and command) into m.
func DecodeParams(command string, params map[string]json.RawMessage, m Message) error {
	b := append(make([]byte, 0, 64), '{')
	b = AppendExtra(b, 0, params)
	b = append(b, '}')
	if err := decode(b, false, true, m); err != nil {
		return &CommandError{Command: command, Pointer: err.Pointer, Message: "invalid parameters for " + command + ": " + err.Message}
	}
	return nil
}

// DecodeResult decodes and validates the result of command into m.
func DecodeResult(command string, result []byte, m Message) error {
	if len(result) == 0 {
		result = []byte("null")
	}
	if err := decode(result, false, true, m); err != nil {
		return &CommandError{Command: command, Pointer: err.Pointer, Message: "unexpected result of " + command + ": " + err.Message}
	}
	return nil
}

// IsNull reports whether a result is absent or JSON null.
func IsNull(result []byte) bool {
	return len(result) == 0 || string(result) == "null"
}

// AppendExec appends the payload of an exec event: id, command and the members of params (an
// encoded JSON object).
func AppendExec(b []byte, id, command string, params []byte) []byte {
	b = append(b, `{"id":`...)
	b = AppendString(b, id)
	b = append(b, `,"command":`...)
	b = AppendString(b, command)
	if inner := objectMembers(params); len(inner) > 0 {
		b = append(b, ',')
		b = append(b, inner...)
	}
	return append(b, '}')
}

// objectMembers returns what is between the braces of an encoded object, trimmed.
func objectMembers(obj []byte) []byte {
	i, j := 0, len(obj)
	for i < j && obj[i] != '{' {
		i++
	}
	for j > i && obj[j-1] != '}' {
		j--
	}
	if j-i < 2 {
		return nil
	}
	inner := obj[i+1 : j-1]
	for len(inner) > 0 && isSpace(inner[0]) {
		inner = inner[1:]
	}
	for len(inner) > 0 && isSpace(inner[len(inner)-1]) {
		inner = inner[:len(inner)-1]
	}
	return inner
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Executor runs one exec command on an agent: it sends the command with its encoded parameters
// and returns the result of the agent's successful exec_result (nil when it has none), or an
// error carrying the agent's message when the command failed.
type Executor interface {
	Exec(ctx context.Context, command string, params []byte) (json.RawMessage, error)
}
