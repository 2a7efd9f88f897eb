package sqlite

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
	return wrap("add recent folder", inTx(ctx, s.write, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recent_folders (runner_id, path, used_at) VALUES (?, ?, ?)
			ON CONFLICT (runner_id, path) DO UPDATE SET used_at = excluded.used_at`,
			runnerID, path, millis(at)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM recent_folders WHERE runner_id = ? AND path NOT IN (
			SELECT path FROM recent_folders WHERE runner_id = ? ORDER BY used_at DESC, path LIMIT ?)`,
			runnerID, runnerID, maxRecentFolders)
		return err
	}))
}

// RecentFolders lists the runner's recent folders, newest first, at most limit.
func (s *Store) RecentFolders(ctx context.Context, runnerID string, limit int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT path FROM recent_folders WHERE runner_id = ?
		ORDER BY used_at DESC, path LIMIT ?`, runnerID, limit)
	paths, err := collect(rows, err, scanString)
	return paths, wrap("recent folders", err)
}
