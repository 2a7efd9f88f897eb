// Package store defines the relay's durable data: accounts, API keys, browser sessions, persisted
// relay sessions and their snapshots, runner identities, recent folders and attachments. The relay
// core only sees the Store interface; sqlstore implements it on SQLite (the default, one node) and
// on PostgreSQL (several nodes sharing data).
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when the record asked for does not exist (or has expired).
var ErrNotFound = errors.New("not found")

// ErrExists is returned when creating a record whose unique key is taken.
var ErrExists = errors.New("already exists")

// ErrQuota is returned by SaveAttachments when the files would take the user over the quota.
var ErrQuota = errors.New("quota exceeded")

// User is an account.
type User struct {
	ID           string
	Email        string // stored lower-cased
	Name         string
	PasswordHash string // encoded hash (argon2id), never the password
	CreatedAt    time.Time
}

// APIKey is a key a CLI, runner or Go client authenticates with. Only its hash is stored.
type APIKey struct {
	ID         string
	UserID     string
	Name       string // "cli" for the key POST /api/register issues
	Prefix     string // the first characters of the key, to recognise it in lists
	Hash       []byte // SHA-256 of the whole key
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until the key is first used
}

// RelaySession is the durable record of a session, kept so that ended sessions can be listed and
// replayed.
type RelaySession struct {
	ID           string
	UserID       string
	UserName     string
	Cwd          string
	ShareURL     string
	StartedAt    time.Time
	LastActiveAt time.Time
	EndedAt      *time.Time // nil while live
	IsEphemeral  bool
	ExpiresAt    *time.Time // nil: kept until deleted
	// SeqReserved is the highest event sequence number the relay may have given the session's
	// events (it reserves numbers ahead, in blocks). A session registered again after its live
	// state was lost (a restarted node) numbers its events after it, so that the numbers viewers
	// have seen never repeat.
	SeqReserved int64
}

// Runner is a runner daemon's identity. The secret is stored hashed.
type Runner struct {
	ID         string
	UserID     string
	SecretHash []byte // SHA-256 of the runner secret
	Name       string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// Attachment is a file uploaded for a session's input; the bytes live in the data directory.
type Attachment struct {
	ID        string
	SessionID string
	UserID    string
	Filename  string
	MediaType string
	Size      int64
	Path      string // file path inside the data directory
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store is the durable data of the relay. Implementations are safe for concurrent use. Methods
// return ErrNotFound and ErrExists (possibly wrapped) as documented; other errors are I/O errors.
type Store interface {
	// CreateUser adds an account; ErrExists when the email (compared case-insensitively) is taken.
	CreateUser(ctx context.Context, u User) error
	// UserByEmail finds an account by email, case-insensitively.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByID finds an account by id.
	UserByID(ctx context.Context, id string) (User, error)

	// CreateAPIKey stores a key.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// DeleteAPIKeys deletes the user's keys with the given name and returns how many there were.
	DeleteAPIKeys(ctx context.Context, userID, name string) (int, error)
	// APIKeys lists the user's keys, newest first.
	APIKeys(ctx context.Context, userID string) ([]APIKey, error)
	// DeleteAPIKey deletes one of the user's keys; ErrNotFound when the user has no key with this
	// id (another user's key included).
	DeleteAPIKey(ctx context.Context, userID, id string) error
	// UserByAPIKey finds the key with this hash and its owner, and records now as its last use.
	UserByAPIKey(ctx context.Context, hash []byte, now time.Time) (User, APIKey, error)

	// CreateBrowserSession stores a login session, identified by the hash of its cookie token.
	CreateBrowserSession(ctx context.Context, tokenHash []byte, userID string, expiresAt time.Time) error
	// UserByBrowserSession finds the owner of an unexpired browser session.
	UserByBrowserSession(ctx context.Context, tokenHash []byte, now time.Time) (User, error)
	// DeleteBrowserSession ends a browser session (no error when it does not exist).
	DeleteBrowserSession(ctx context.Context, tokenHash []byte) error
	// DeleteExpiredBrowserSessions removes sessions that expired before now.
	DeleteExpiredBrowserSessions(ctx context.Context, now time.Time) (int, error)

	// SaveRelaySession inserts a session record or, when one with this id exists, replaces its
	// fields (a re-registration starts it again: EndedAt cleared) but SeqReserved, which only
	// grows.
	SaveRelaySession(ctx context.Context, s RelaySession) error
	// TouchRelaySession records activity: lastActiveAt and the new expiry (nil keeps it unset).
	TouchRelaySession(ctx context.Context, id string, lastActiveAt time.Time, expiresAt *time.Time) error
	// EndRelaySession marks a session ended at endedAt, with a new expiry (nil: never expires).
	EndRelaySession(ctx context.Context, id string, endedAt time.Time, expiresAt *time.Time) error
	// ReserveRelaySessionSeq raises the session's SeqReserved to seq (a lower seq changes nothing);
	// ErrNotFound when the session does not exist.
	ReserveRelaySessionSeq(ctx context.Context, id string, seq int64) error
	// RelaySession returns one session record.
	RelaySession(ctx context.Context, id string) (RelaySession, error)
	// ListRelaySessions returns the user's sessions that have not expired at now, most recently
	// active first, at most limit.
	ListRelaySessions(ctx context.Context, userID string, now time.Time, limit int) ([]RelaySession, error)
	// SaveSessionState stores the latest snapshot (the session_active state JSON) of a session.
	SaveSessionState(ctx context.Context, sessionID string, state []byte, at time.Time) error
	// SessionState returns the latest snapshot of a session; ErrNotFound when there is none.
	SessionState(ctx context.Context, sessionID string) ([]byte, error)
	// PruneRelaySessions deletes sessions (and their snapshots) that expired before now and
	// returns their ids.
	PruneRelaySessions(ctx context.Context, now time.Time) ([]string, error)

	// SaveRunner creates or updates a runner identity.
	SaveRunner(ctx context.Context, r Runner) error
	// Runner returns a runner identity.
	Runner(ctx context.Context, id string) (Runner, error)

	// AddRecentFolder records that a session was started in path on the runner (moving it to the
	// front when already known) and keeps the 20 most recent.
	AddRecentFolder(ctx context.Context, runnerID, path string, at time.Time) error
	// RecentFolders lists the runner's recent folders, newest first.
	RecentFolders(ctx context.Context, runnerID string, limit int) ([]string, error)

	// SaveAttachment stores an attachment record.
	SaveAttachment(ctx context.Context, a Attachment) error
	// SaveAttachments stores the records of one upload of userID, all or none: ErrQuota when the
	// sizes of the user's attachments that have not expired at now, these included, would add up
	// to more than quota bytes (a quota of zero or less is no limit). Concurrent uploads of one
	// user cannot together exceed the quota.
	SaveAttachments(ctx context.Context, userID string, atts []Attachment, quota int64, now time.Time) error
	// AttachmentBytes returns the total size of the user's attachments that have not expired at
	// now.
	AttachmentBytes(ctx context.Context, userID string, now time.Time) (int64, error)
	// Attachment returns an attachment record, also when it has expired (callers check).
	Attachment(ctx context.Context, id string) (Attachment, error)
	// DeleteExpiredAttachments removes the records that expired before now and returns them, so
	// the caller can delete their files.
	DeleteExpiredAttachments(ctx context.Context, now time.Time) ([]Attachment, error)

	// Close releases the store.
	Close() error
}
