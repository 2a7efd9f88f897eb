package sqlstore

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pizzapi/pizzapi/server/store"
	"github.com/pizzapi/pizzapi/server/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "pizzapi.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSQLiteCreatesDirectoryAndUsesWAL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	s, err := OpenSQLite(t.Context(), filepath.Join(dir, "pizzapi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode = %v, want 0700", perm)
	}
	var mode string
	if err := s.read.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

// migrationRecord is a row of schema_migrations.
type migrationRecord struct{ Version, AppliedAt int64 }

func appliedMigrations(t *testing.T, s *Store) []migrationRecord {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var records []migrationRecord
	for rows.Next() {
		var r migrationRecord
		if err := rows.Scan(&r.Version, &r.AppliedAt); err != nil {
			t.Fatal(err)
		}
		records = append(records, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return records
}

// migrationCount is the number of migration files of an engine.
func migrationCount(t *testing.T, d *dialect) int {
	t.Helper()
	names, err := fs.Glob(d.migrations, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

func TestSQLiteReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "pizzapi.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{ID: "u1", Email: "alice@example.com", Name: "Alice", PasswordHash: "hash"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	applied := appliedMigrations(t, s)
	if want := migrationCount(t, sqliteDialect); len(applied) != want {
		t.Errorf("%d migrations applied, want %d", len(applied), want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.UserByID(ctx, "u1")
	if err != nil {
		t.Fatalf("UserByID after reopening: %v", err)
	}
	if got.Email != u.Email {
		t.Errorf("UserByID after reopening: email %q, want %q", got.Email, u.Email)
	}
	if d := cmp.Diff(applied, appliedMigrations(t, s)); d != "" {
		t.Errorf("schema_migrations changed on reopening (-before +after):\n%s", d)
	}
}
