package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/pizzapi/pizzapi/server/store"
)

// wrap prefixes err with the operation and maps it to the store's errors: no row, or a reference
// to a missing record (a foreign key), is store.ErrNotFound; a taken unique key is store.ErrExists.
func wrap(op string, err error) error {
	var se *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	case errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrExists, err)
	case errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrNotFound, err)
	default:
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
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
