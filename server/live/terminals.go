package live

import (
	"context"
	"time"
)

// Terminal is a PTY a user asked a runner for.
type Terminal struct {
	ID        string
	RunnerID  string
	UserID    string
	Cwd       string
	Cols      int
	Rows      int
	Spawned   bool
	Exited    bool
	CreatedAt time.Time
}

// Output is a message of a runner for a terminal's viewer, kept while no viewer is attached.
type Output struct {
	Event   string
	Payload []byte
}

// TerminalStore keeps the terminals and the output buffered for those without a viewer.
// Implementations are safe for concurrent use; values returned are copies the caller may keep.
type TerminalStore interface {
	// PutTerminal stores a terminal.
	PutTerminal(ctx context.Context, t *Terminal) error
	// Terminal returns a terminal.
	Terminal(ctx context.Context, id string) (*Terminal, error)
	// UpdateTerminal applies fn to the terminal atomically and returns the result.
	UpdateTerminal(ctx context.Context, id string, fn func(*Terminal) error) (*Terminal, error)
	// DeleteTerminal removes a terminal and its buffered output, reporting whether it existed.
	DeleteTerminal(ctx context.Context, id string) (bool, error)
	// RunnerTerminals lists the terminals of a runner.
	RunnerTerminals(ctx context.Context, runnerID string) ([]*Terminal, error)
	// BufferOutput keeps a runner message for a terminal that has no viewer; at most max are kept
	// (the oldest are dropped).
	BufferOutput(ctx context.Context, terminalID string, o Output, max int) error
	// TakeOutput returns and clears the buffered messages of a terminal.
	TakeOutput(ctx context.Context, terminalID string) ([]Output, error)
}
