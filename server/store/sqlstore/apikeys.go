package sqlstore

import (
	"context"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

const apiKeyColumns = `id, user_id, name, prefix, hash, created_at, last_used_at`

func scanAPIKey(row scanner) (store.APIKey, error) {
	var k store.APIKey
	var created, used int64
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &created, &used); err != nil {
		return store.APIKey{}, err
	}
	k.CreatedAt, k.LastUsedAt = fromMillis(created), fromMillis(used)
	return k, nil
}

// CreateAPIKey stores a key; store.ErrExists when its id or hash is taken, store.ErrNotFound when
// its user does not exist.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, millis(k.CreatedAt), millis(k.LastUsedAt))
	return s.wrap("create api key", err)
}

// DeleteAPIKeys deletes the user's keys with the given name and returns how many there were.
func (s *Store) DeleteAPIKeys(ctx context.Context, userID, name string) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM api_keys WHERE user_id = $1 AND name = $2`, userID, name)
	return s.count("delete api keys", res, err)
}

// APIKeys lists the user's keys, newest first.
func (s *Store) APIKeys(ctx context.Context, userID string) ([]store.APIKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id`, userID)
	keys, err := collect(rows, err, scanAPIKey)
	if keys == nil {
		keys = []store.APIKey{}
	}
	return keys, s.wrap("api keys", err)
}

// DeleteAPIKey deletes one of the user's keys; store.ErrNotFound when the user has none with this
// id.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return s.wrap("delete api key", changed(s.write.ExecContext(ctx, `DELETE FROM api_keys WHERE user_id = $1 AND id = $2`, userID, id)))
}

// UserByAPIKey finds the key with this hash and its owner, and records now as its last use.
func (s *Store) UserByAPIKey(ctx context.Context, hash []byte, now time.Time) (store.User, store.APIKey, error) {
	k, err := scanAPIKey(s.write.QueryRowContext(ctx,
		`UPDATE api_keys SET last_used_at = $1 WHERE hash = $2 RETURNING `+apiKeyColumns, millis(now), hash))
	if err != nil {
		return store.User{}, store.APIKey{}, s.wrap("user by api key", err)
	}
	u, err := s.UserByID(ctx, k.UserID)
	if err != nil {
		return store.User{}, store.APIKey{}, err
	}
	return u, k, nil
}
