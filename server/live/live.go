// Package live defines the relay's live state, one small interface per concern: registered
// sessions (SessionStore) and their events, sequence numbers and snapshots (EventStore),
// connected runners (RunnerStore), terminals with their buffered output (TerminalStore) and
// pending runner links (LinkStore). Store gathers them for the relay core, which does not know
// whether the state lives in memory (this package's Memory stores, for one node) or in Redis
// (package redislive, for several).
package live

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned for a session, runner or terminal that does not exist.
var ErrNotFound = errors.New("live: not found")

// ErrDuplicate is returned by Append for an event the session has already processed.
var ErrDuplicate = errors.New("live: duplicate event")

// Store is the whole live state, every concern's store in one value.
type Store interface {
	SessionStore
	EventStore
	RunnerStore
	TerminalStore
	LinkStore
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

// FormatTime formats t the way the protocol writes times (ISO-8601, milliseconds, UTC).
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
