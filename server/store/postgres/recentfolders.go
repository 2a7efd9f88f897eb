package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxRecentFolders is how many recent folders are kept per runner.
const maxRecentFolders = 20

// AddRecentFolder records that a session was started in path on the runner (moving it to the
// front when already known) and keeps the 20 most recent.
func (s *Store) AddRecentFolder(ctx context.Context, runnerID, path string, at time.Time) error {
	return wrap("add recent folder", pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialise the runner's updates, so that each trim sees every folder added before it (and
		// concurrent trims cannot deadlock deleting the rows each other just updated).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('recent_folders:' || $1, 0))`,
			runnerID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO recent_folders (runner_id, path, used_at) VALUES ($1, $2, $3)
			ON CONFLICT (runner_id, path) DO UPDATE SET used_at = excluded.used_at`,
			runnerID, path, millis(at)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM recent_folders WHERE runner_id = $1 AND path NOT IN (
			SELECT path FROM recent_folders WHERE runner_id = $1 ORDER BY used_at DESC, path LIMIT $2)`,
			runnerID, maxRecentFolders)
		return err
	}))
}

// RecentFolders lists the runner's recent folders, newest first, at most limit.
func (s *Store) RecentFolders(ctx context.Context, runnerID string, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT path FROM recent_folders WHERE runner_id = $1
		ORDER BY used_at DESC, path LIMIT $2`, runnerID, limit)
	paths, err := collect(rows, err, scanString)
	return paths, wrap("recent folders", err)
}
