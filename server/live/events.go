package live

import (
	"context"
	"time"
)

// Entry is one published event in a session's history.
type Entry struct {
	Seq   int64
	Type  string // the inner event's type
	Event []byte // the inner event, raw JSON
}

// EventStore keeps the events of sessions: their sequence numbers, bounded history and latest
// heartbeat and state. The events of a session belong to its record (the sequence numbers are
// fields of the Session), so an implementation is the same value as the SessionStore that holds
// the sessions; every method returns ErrNotFound for a session that store does not hold.
// Implementations are safe for concurrent use.
type EventStore interface {
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
}
