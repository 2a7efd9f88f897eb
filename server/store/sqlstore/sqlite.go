package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/pizzapi/pizzapi/server/store"
)

// sqliteReadConns is the size of the SQLite read pool.
const sqliteReadConns = 8

// sqliteDialect is SQLite's. Its write pool has one connection whose transactions take the write
// lock when they begin, so a transaction excludes every other writer and needs no lock of its own.
var sqliteDialect = &dialect{
	name:       "sqlite",
	migrations: mustSub(migrationFiles, "migrations/sqlite"),
	migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		)`,
	constraint: sqliteConstraint,
}

// OpenSQLite opens the SQLite database file at path, creating it (and its directory, mode 0700)
// when needed, and applies the migrations it lacks.
//
// SQLite allows one writer at a time. Writes therefore go through a pool of exactly one
// connection, so they queue in database/sql instead of contending for the file lock (which is
// what produces "database is locked" errors); reads use a separate pool of read-only connections,
// which WAL mode lets run alongside the writer.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}

	// _txlock=immediate takes the write lock when a transaction begins rather than on its first
	// write, so a transaction never fails upgrading its lock.
	write, err := openSQLitePool(path, 1, "_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, write, sqliteDialect); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: migrate: %w", err), write.Close())
	}
	read, err := openSQLitePool(path, sqliteReadConns, "_pragma=query_only(1)")
	if err != nil {
		return nil, errors.Join(err, write.Close())
	}
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open: %w", err), read.Close(), write.Close())
	}
	return &Store{
		d: sqliteDialect, write: write, read: read,
		close: func() error { return errors.Join(read.Close(), write.Close()) },
	}, nil
}

// openSQLitePool opens a pool of at most conns connections to the database at path, each
// configured with the common pragmas and params (DSN query parameters).
func openSQLitePool(path string, conns int, params string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&"+params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	return db, nil
}

// sqliteConstraint implements dialect.constraint.
func sqliteConstraint(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return store.ErrExists
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return store.ErrNotFound
	}
	return nil
}

// mustSub returns the subtree dir of fsys (an embedded tree, so that it exists is known).
func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
