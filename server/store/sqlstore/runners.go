package sqlstore

import (
	"context"

	"github.com/pizzapi/pizzapi/server/store"
)

// SaveRunner creates a runner identity or, when one with this id exists, updates its secret hash,
// name and last-seen time (its owner and creation time are kept).
func (s *Store) SaveRunner(ctx context.Context, r store.Runner) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO runners (id, user_id, secret_hash, name, created_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash, name = excluded.name,
			last_seen_at = excluded.last_seen_at`,
		r.ID, r.UserID, r.SecretHash, r.Name, millis(r.CreatedAt), millis(r.LastSeenAt))
	return s.wrap("save runner", err)
}

// Runner returns a runner identity.
func (s *Store) Runner(ctx context.Context, id string) (store.Runner, error) {
	var r store.Runner
	var created, seen int64
	err := s.read.QueryRowContext(ctx, `SELECT id, user_id, secret_hash, name, created_at, last_seen_at
		FROM runners WHERE id = $1`, id).Scan(&r.ID, &r.UserID, &r.SecretHash, &r.Name, &created, &seen)
	if err != nil {
		return store.Runner{}, s.wrap("runner", err)
	}
	r.CreatedAt, r.LastSeenAt = fromMillis(created), fromMillis(seen)
	return r, nil
}
