package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pizzapi/pizzapi/server/store"
)

// postgresDialect is PostgreSQL's. Several nodes write at once, so transactions that must not
// interleave (migrations; the trims and quota checks of one runner or user) take a transaction
// advisory lock. The lock keys are the ones earlier versions took, so that nodes of both versions
// exclude each other during a rolling upgrade.
var postgresDialect = &dialect{
	name:       "postgres",
	migrations: mustSub(migrationFiles, "migrations/postgres"),
	migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at BIGINT NOT NULL
		)`,
	lockMigrations: fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, pgMigrationLock),
	lockKey:        `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
	constraint:     postgresConstraint,
}

// pgMigrationLock is the advisory lock key ("pizzapi!") that serialises migrations when several
// nodes start at once.
const pgMigrationLock int64 = 0x70697a7a61706921

// OpenPostgres connects to the PostgreSQL database at url (a postgres:// URL or a key=value
// connection string, with pgxpool's pool_* settings) and applies the migrations it lacks. Several
// nodes may open the same database at once.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// The database/sql handle takes its connections from pgxpool, which keeps the idle ones.
	db := stdlib.OpenDBFromPool(pool)
	closeAll := func() error {
		err := db.Close()
		pool.Close()
		return err
	}
	if err := migrate(ctx, db, postgresDialect); err != nil {
		return nil, errors.Join(fmt.Errorf("postgres: migrate: %w", err), closeAll())
	}
	return &Store{d: postgresDialect, write: db, read: db, close: closeAll}, nil
}

// SQLSTATE codes of the constraint violations the store maps.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// postgresConstraint implements dialect.constraint.
func postgresConstraint(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return nil
	}
	switch pgErr.Code {
	case pgUniqueViolation:
		return store.ErrExists
	case pgForeignKeyViolation:
		return store.ErrNotFound
	}
	return nil
}
