package sqlstore

import (
	"context"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

// CreateBrowserSession stores a login session, identified by the hash of its cookie token;
// store.ErrExists when the hash is taken, store.ErrNotFound when the user does not exist.
func (s *Store) CreateBrowserSession(ctx context.Context, tokenHash []byte, userID string, expiresAt time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO browser_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		tokenHash, userID, millis(expiresAt))
	return s.wrap("create browser session", err)
}

// UserByBrowserSession finds the owner of a browser session that expires after now.
func (s *Store) UserByBrowserSession(ctx context.Context, tokenHash []byte, now time.Time) (store.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT u.id, u.email, u.name, u.password_hash, u.created_at
		FROM browser_sessions b JOIN users u ON u.id = b.user_id
		WHERE b.token_hash = $1 AND b.expires_at > $2`, tokenHash, millis(now)))
	return u, s.wrap("user by browser session", err)
}

// DeleteBrowserSession ends a browser session (no error when it does not exist).
func (s *Store) DeleteBrowserSession(ctx context.Context, tokenHash []byte) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM browser_sessions WHERE token_hash = $1`, tokenHash)
	return s.wrap("delete browser session", err)
}

// DeleteExpiredBrowserSessions removes the sessions that expire at or before now and returns how
// many there were.
func (s *Store) DeleteExpiredBrowserSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM browser_sessions WHERE expires_at <= $1`, millis(now))
	return s.count("delete expired browser sessions", res, err)
}
