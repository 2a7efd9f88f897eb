// Package sqlite implements store.Store on an SQLite database file with modernc.org/sqlite (pure
// Go, no cgo). It is the default store, for a relay running as a single node.
//
// SQLite allows one writer at a time. Writes therefore go through a pool of exactly one
// connection, so they queue in database/sql instead of contending for the file lock (which is what
// produces "database is locked" errors); reads use a separate pool of read-only connections, which
// WAL mode lets run alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/pizzapi/pizzapi/server/store"
)

// readConns is the size of the read pool.
const readConns = 8

// Store is a store.Store backed by an SQLite database file. It is safe for concurrent use.
type Store struct {
	write *sql.DB // a single connection: every write, in turn
	read  *sql.DB // read-only connections
}

var _ store.Store = (*Store)(nil)

// Open opens the database at path, creating it (and its directory, mode 0700) when needed, and
// applies the migrations it lacks.
func Open(ctx context.Context, path string) (*Store, error) {
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
	write, err := openPool(path, 1, "_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, write); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: migrate: %w", err), write.Close())
	}
	read, err := openPool(path, readConns, "_pragma=query_only(1)")
	if err != nil {
		return nil, errors.Join(err, write.Close())
	}
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open: %w", err), read.Close(), write.Close())
	}
	return &Store{write: write, read: read}, nil
}

// openPool opens a pool of at most conns connections to the database at path, each configured with
// the common pragmas and params (DSN query parameters).
func openPool(path string, conns int, params string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&"+params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	return db, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := errors.Join(s.read.Close(), s.write.Close()); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction on db, committed when fn succeeds and rolled back otherwise.
func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}
