// Package postgres implements store.Store on PostgreSQL with pgx, for relays running as several
// nodes that share their data.
package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pizzapi/pizzapi/server/store"
)

// Store is a store.Store backed by a PostgreSQL database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value connection string) and
// applies the migrations it lacks. Several nodes may open the same database at once.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the connections to the database.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
