// Package sqlstore implements store.Store and store.PushStore once, over database/sql, for two
// engines: SQLite (modernc.org/sqlite, pure Go; the default, for a relay running as one node) and
// PostgreSQL (pgx, for relay nodes that share their data).
//
// Every query is written once, in SQL both engines accept: $N placeholders (PostgreSQL's, which
// SQLite reads as the N-th argument), INSERT ... ON CONFLICT, RETURNING, CASE rather than MAX or
// GREATEST. What differs between the engines is a dialect (sqlite.go, postgres.go): how the
// database is opened, the migrations (the column types differ), how a constraint violation is
// recognised, and how a transaction keeps the writers of one key apart (an advisory lock on
// PostgreSQL; SQLite has a single writer).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pizzapi/pizzapi/server/store"
)

// Store is a store.Store and store.PushStore on an SQLite or PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	d     *dialect
	write *sql.DB // every write (SQLite: a single connection, so writes queue instead of contending)
	read  *sql.DB // reads (SQLite: read-only connections; PostgreSQL: the same pool as write)
	close func() error
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.PushStore = (*Store)(nil)
)

// dialect is what differs between the engines.
type dialect struct {
	// name prefixes errors ("sqlite", "postgres").
	name string
	// migrations holds the engine's schema changes, as files named NNNN_description.sql (see
	// migrate).
	migrations fs.FS
	// migrationsTable creates the table recording the applied migrations when it is missing.
	migrationsTable string
	// lockMigrations, run first in the migration transaction, keeps nodes that start together from
	// migrating at once ("" when the transaction excludes other writers already).
	lockMigrations string
	// lockKey, run in a transaction with a key as $1, keeps the transactions that lock the same
	// key from running at once, until they end ("" when every write transaction excludes the
	// others already).
	lockKey string
	// constraint returns store.ErrExists for a unique key violation, store.ErrNotFound for a
	// foreign key violation, and nil for any other error.
	constraint func(err error) error
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.close(); err != nil {
		return fmt.Errorf("%s: close: %w", s.d.name, err)
	}
	return nil
}

// lock keeps the transactions of tx's kind that lock key from running at the same time (see
// dialect.lockKey). key names what is serialised, e.g. "recent_folders:" + runner id.
func (s *Store) lock(ctx context.Context, tx *sql.Tx, key string) error {
	if s.d.lockKey == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.lockKey, key)
	return err
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

// wrap prefixes err with the engine and the operation and maps it to the store's errors: no row,
// or a reference to a missing record (a foreign key), is store.ErrNotFound; a taken unique key is
// store.ErrExists.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %s: %w", s.d.name, op, store.ErrNotFound)
	}
	if kind := s.d.constraint(err); kind != nil {
		return fmt.Errorf("%s: %s: %w: %w", s.d.name, op, kind, err)
	}
	return fmt.Errorf("%s: %s: %w", s.d.name, op, err)
}

// changed turns the result of a statement that changed no row into sql.ErrNoRows.
func changed(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		return sql.ErrNoRows
	}
	return err
}

// affected reports whether a statement changed a row.
func (s *Store) affected(op string, res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n > 0, s.wrap(op, err)
}

// count returns how many rows a statement changed.
func (s *Store) count(op string, res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	return int(n), s.wrap(op, err)
}
