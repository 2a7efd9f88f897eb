package live

import (
	"context"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
)

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

// SessionStore keeps the registered sessions. Implementations are safe for concurrent use; values
// returned are copies the caller may keep.
type SessionStore interface {
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
}
