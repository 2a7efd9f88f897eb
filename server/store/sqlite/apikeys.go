package sqlite

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
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, millis(k.CreatedAt), millis(k.LastUsedAt))
	return wrap("create api key", err)
}

// DeleteAPIKeys deletes the user's keys with the given name and returns how many there were.
func (s *Store) DeleteAPIKeys(ctx context.Context, userID, name string) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM api_keys WHERE user_id = ? AND name = ?`, userID, name)
	if err != nil {
		return 0, wrap("delete api keys", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("delete api keys", err)
}

// APIKeys lists the user's keys, newest first.
func (s *Store) APIKeys(ctx context.Context, userID string) ([]store.APIKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE user_id = ? ORDER BY created_at DESC, id`, userID)
	if err != nil {
		return nil, wrap("api keys", err)
	}
	defer rows.Close()
	keys := []store.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, wrap("api keys", err)
		}
		keys = append(keys, k)
	}
	return keys, wrap("api keys", rows.Err())
}

// DeleteAPIKey deletes one of the user's keys; store.ErrNotFound when the user has none with this
// id.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return wrap("delete api key", changed(s.write.ExecContext(ctx, `DELETE FROM api_keys WHERE user_id = ? AND id = ?`, userID, id)))
}

// UserByAPIKey finds the key with this hash and its owner, and records now as its last use.
func (s *Store) UserByAPIKey(ctx context.Context, hash []byte, now time.Time) (store.User, store.APIKey, error) {
	k, err := scanAPIKey(s.write.QueryRowContext(ctx,
		`UPDATE api_keys SET last_used_at = ? WHERE hash = ? RETURNING `+apiKeyColumns, millis(now), hash))
	if err != nil {
		return store.User{}, store.APIKey{}, wrap("user by api key", err)
	}
	u, err := s.UserByID(ctx, k.UserID)
	if err != nil {
		return store.User{}, store.APIKey{}, err
	}
	return u, k, nil
}
