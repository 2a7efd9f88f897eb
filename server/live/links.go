package live

import (
	"context"
	"time"
)

// LinkStore keeps the pending runner links: a runner spawned a session whose worker has not
// registered yet, and the session is linked to the runner when it does. Implementations are safe
// for concurrent use.
type LinkStore interface {
	// SetLink remembers that a runner spawned a session whose worker has not registered yet.
	SetLink(ctx context.Context, sessionID, runnerID string, ttl time.Duration) error
	// TakeLink returns and removes the pending link of a session.
	TakeLink(ctx context.Context, sessionID string) (string, bool, error)
}
