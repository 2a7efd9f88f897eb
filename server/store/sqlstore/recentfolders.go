package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// maxRecentFolders is how many recent folders are kept per runner.
const maxRecentFolders = 20

// AddRecentFolder records that a session was started in path on the runner (moving it to the
// front when already known) and keeps the 20 most recent.
func (s *Store) AddRecentFolder(ctx context.Context, runnerID, path string, at time.Time) error {
	return s.wrap("add recent folder", inTx(ctx, s.write, func(tx *sql.Tx) error {
		// Serialise the runner's updates, so that each trim sees every folder added before it (and
		// concurrent trims cannot deadlock deleting the rows each other just updated).
		if err := s.lock(ctx, tx, "recent_folders:"+runnerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recent_folders (runner_id, path, used_at) VALUES ($1, $2, $3)
			ON CONFLICT (runner_id, path) DO UPDATE SET used_at = excluded.used_at`,
			runnerID, path, millis(at)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM recent_folders WHERE runner_id = $1 AND path NOT IN (
			SELECT path FROM recent_folders WHERE runner_id = $1 ORDER BY used_at DESC, path LIMIT $2)`,
			runnerID, maxRecentFolders)
		return err
	}))
}

// RecentFolders lists the runner's recent folders, newest first, at most limit.
func (s *Store) RecentFolders(ctx context.Context, runnerID string, limit int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT path FROM recent_folders WHERE runner_id = $1
		ORDER BY used_at DESC, path LIMIT $2`, runnerID, limit)
	paths, err := collect(rows, err, scanString)
	return paths, s.wrap("recent folders", err)
}
