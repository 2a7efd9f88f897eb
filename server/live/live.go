// Package live defines the relay's live state: registered sessions with their sequence numbers,
// snapshots and bounded event history, connected runners, terminals and pending runner links.
// The relay core only sees the Store interface; the in-memory implementation serves one node,
// the Redis one several.
package live

import (
	"context"
	"errors"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
)

// ErrNotFound is returned for a session, runner or terminal that does not exist.
var ErrNotFound = errors.New("live: not found")

// ErrDuplicate is returned by Append for an event the session has already processed.
var ErrDuplicate = errors.New("live: duplicate event")

// Session is a registered agent session.
type Session struct {
	ID              string
	UserID          string
	UserName        string
	Token           string // secret of the current registration
	Cwd             string
	ShareURL        string
	StartedAt       time.Time
	SessionName     *string
	IsEphemeral     bool
	CollabMode      bool
	ExpiresAt       *time.Time // ephemeral sessions only
	IsActive        bool
	LastHeartbeatAt *time.Time
	Model           *protocol.ModelInfo
	RunnerID        *string
	RunnerName      *string
	// Seq is the last sequence number given to a published event.
	Seq int64
	// CLISeq is the highest CLI event number processed; numbered events at or below it are
	// duplicates.
	CLISeq int64
	// Conn identifies the CLI connection that holds the session ("" while it is disconnected).
	Conn string
	// DisconnectedAt is when the CLI connection was lost, for the reconnect grace period.
	DisconnectedAt *time.Time
}

// Info returns the session as the hub and the REST API list it.
func (s *Session) Info(viewers int) protocol.SessionInfo {
	info := protocol.SessionInfo{
		SessionID:   s.ID,
		ShareURL:    s.ShareURL,
		Cwd:         s.Cwd,
		StartedAt:   FormatTime(s.StartedAt),
		ViewerCount: protocol.Some(int64(viewers)),
		UserID:      protocol.Some(s.UserID),
		UserName:    protocol.Some(s.UserName),
		SessionName: s.SessionName,
		IsEphemeral: s.IsEphemeral,
		IsActive:    s.IsActive,
		Model:       s.Model,
		RunnerID:    s.RunnerID,
		RunnerName:  s.RunnerName,
	}
	if s.ExpiresAt != nil {
		t := FormatTime(*s.ExpiresAt)
		info.ExpiresAt = protocol.Some(&t)
	} else {
		info.ExpiresAt = protocol.Some[*string](nil)
	}
	if s.LastHeartbeatAt != nil {
		t := FormatTime(*s.LastHeartbeatAt)
		info.LastHeartbeatAt = &t
	}
	return info
}

// FormatTime formats t the way the protocol writes times (ISO-8601, milliseconds, UTC).
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Entry is one published event in a session's history.
type Entry struct {
	Seq   int64
	Type  string // the inner event's type
	Event []byte // the inner event, raw JSON
}

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

// Store is the live state. Implementations are safe for concurrent use; values returned are
// copies the caller may keep.
type Store interface {
	// CreateSession stores a new session, replacing any session with the same id (whose events
	// and snapshot are dropped).
	CreateSession(ctx context.Context, s *Session) error
	// Session returns a session.
	Session(ctx context.Context, id string) (*Session, error)
	// UpdateSession applies fn to the session atomically and returns the result; fn returning an
	// error leaves the session unchanged.
	UpdateSession(ctx context.Context, id string, fn func(*Session) error) (*Session, error)
	// DeleteSession removes a session with its history and snapshot. It reports whether this call
	// deleted it, so that only one of several concurrent callers acts on the end of a session.
	DeleteSession(ctx context.Context, id string) (*Session, bool, error)
	// UserSessions lists a user's sessions.
	UserSessions(ctx context.Context, userID string) ([]*Session, error)
	// Sessions lists every session (for the expiry sweep).
	Sessions(ctx context.Context) ([]*Session, error)

	// Append gives event the session's next sequence number and adds it to the history, which
	// keeps the newest events up to the configured size. A positive cliSeq at or below the
	// session's CLISeq returns ErrDuplicate; otherwise it becomes the new CLISeq. The session's
	// expiry is refreshed to expiresAt when that is not nil.
	Append(ctx context.Context, sessionID string, cliSeq int64, typ string, event []byte, expiresAt *time.Time) (int64, error)
	// History returns the events after afterSeq up to the current sequence number, and false
	// when some of them are no longer kept.
	History(ctx context.Context, sessionID string, afterSeq int64) ([]Entry, bool, error)
	// SetHeartbeat stores the last heartbeat event of a session.
	SetHeartbeat(ctx context.Context, sessionID string, event []byte) error
	// SetState stores the last session_active state of a session.
	SetState(ctx context.Context, sessionID string, state []byte) error
	// Snapshot returns the last heartbeat, the last state and the current sequence number,
	// consistently with each other.
	Snapshot(ctx context.Context, sessionID string) (heartbeat, state []byte, seq int64, err error)

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

	// SetLink remembers that a runner spawned a session whose worker has not registered yet.
	SetLink(ctx context.Context, sessionID, runnerID string, ttl time.Duration) error
	// TakeLink returns and removes the pending link of a session.
	TakeLink(ctx context.Context, sessionID string) (string, bool, error)
}

// Toucher is implemented by stores whose records of connected things (the sessions whose CLI, and
// the runners and terminals whose daemon, a node holds) expire unless that node refreshes them, so
// that the records of a node that died go away. Touch methods return the ids already gone.
type Toucher interface {
	TouchInterval() time.Duration
	TouchSessions(ctx context.Context, ids ...string) ([]string, error)
	TouchRunners(ctx context.Context, ids ...string) ([]string, error)
	TouchTerminals(ctx context.Context, ids ...string) ([]string, error)
}
