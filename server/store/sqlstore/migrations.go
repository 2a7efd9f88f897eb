package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema changes of each engine, under migrations/<engine>/, as files
// named NNNN_description.sql: NNNN is the version, zero-padded so that the files sort in the
// order they apply. The engines' files make the same changes, in each engine's column types.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrate applies, in one transaction, the migrations of d newer than the database's version,
// and records each in schema_migrations.
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	return migrateFrom(ctx, db, d, d.migrations)
}

// migrateFrom is migrate with the migration files read from fsys.
func migrateFrom(ctx context.Context, db *sql.DB, d *dialect, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return err
	}
	return inTx(ctx, db, func(tx *sql.Tx) error {
		if d.lockMigrations != "" {
			if _, err := tx.ExecContext(ctx, d.lockMigrations); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, d.migrationsTable); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return err
		}
		for _, name := range names {
			version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
			if err != nil {
				return fmt.Errorf("migration %s: no version number: %w", name, err)
			}
			if version <= current {
				continue
			}
			script, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(script)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
				version, time.Now().UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}
