package live

import (
	"context"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
)

// Runner is a connected runner daemon.
type Runner struct {
	ID       string
	UserID   string
	UserName string
	Name     string
	Roots    []string
	Skills   []protocol.RunnerSkill
	// Conn identifies the connection that registered it, so that a stale disconnect does not
	// remove a runner that has registered again on another connection.
	Conn        string
	ConnectedAt time.Time
}

// RunnerStore keeps the connected runner daemons. Implementations are safe for concurrent use;
// values returned are copies the caller may keep.
type RunnerStore interface {
	// PutRunner stores a connected runner.
	PutRunner(ctx context.Context, r *Runner) error
	// Runner returns a connected runner.
	Runner(ctx context.Context, id string) (*Runner, error)
	// DeleteRunner removes a runner if conn is still its connection ("" removes it whatever its
	// connection) and reports whether it did.
	DeleteRunner(ctx context.Context, id, conn string) (bool, error)
	// UserRunners lists a user's connected runners.
	UserRunners(ctx context.Context, userID string) ([]*Runner, error)
	// SetRunnerSkills replaces a runner's skills.
	SetRunnerSkills(ctx context.Context, id string, skills []protocol.RunnerSkill) error
}
