package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pizzapi/pizzapi/server/store"
)

// SQLSTATE codes of the constraint violations the store maps.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// wrap prefixes err with the operation and maps it to the store's errors: no row, or a reference
// to a missing record (a foreign key), is store.ErrNotFound; a taken unique key is store.ErrExists.
func wrap(op string, err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	case errors.As(err, &pgErr) && pgErr.Code == uniqueViolation:
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrExists, err)
	case errors.As(err, &pgErr) && pgErr.Code == foreignKeyViolation:
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrNotFound, err)
	default:
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
}

// changed turns the result of a statement that changed no row into pgx.ErrNoRows.
func changed(tag pgconn.CommandTag, err error) error {
	if err == nil && tag.RowsAffected() == 0 {
		return pgx.ErrNoRows
	}
	return err
}
