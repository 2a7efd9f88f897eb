package sqlstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pizzapi/pizzapi/internal/pgtest"
	"github.com/pizzapi/pizzapi/server/store"
	"github.com/pizzapi/pizzapi/server/store/storetest"
)

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := OpenPostgres(t.Context(), pgtest.Database(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPostgresConcurrentMigrations(t *testing.T) {
	dbURL := pgtest.Database(t)
	const nodes = 3
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = OpenPostgres(t.Context(), dbURL) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("OpenPostgres %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}

	if applied, want := len(appliedMigrations(t, stores[0])), migrationCount(t, postgresDialect); applied != want {
		t.Errorf("schema_migrations has %d rows, want %d", applied, want)
	}
	u := store.User{ID: "u1", Email: "alice@example.com", Name: "Alice", PasswordHash: "hash"}
	if err := stores[1].CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[2].UserByID(t.Context(), "u1"); err != nil {
		t.Errorf("a user created through one node is not visible through another: %v", err)
	}
}

// TestPostgresLockKeys: the store's advisory locks are the ones the replaced postgres package
// took (the SQL below is its), so that during a rolling upgrade a node of either version waits
// for the other.
func TestPostgresLockKeys(t *testing.T) {
	ctx := t.Context()
	url := pgtest.Database(t)
	s, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateUser(ctx, store.User{ID: "u1", Email: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, oldLock string
		arg           any
		call          func() error
	}{
		{"attachment quota", `SELECT pg_advisory_xact_lock(hashtextextended('pizzapi:attachments:' || $1, 0))`, "u1", func() error {
			return s.SaveAttachments(ctx, "u1", []store.Attachment{{ID: "a1", UserID: "u1"}}, 100, time.Time{})
		}},
		{"recent folders", `SELECT pg_advisory_xact_lock(hashtextextended('recent_folders:' || $1, 0))`, "r1", func() error {
			return s.AddRecentFolder(ctx, "r1", "/p", time.Time{})
		}},
		{"migrations", `SELECT pg_advisory_xact_lock($1)`, int64(0x70697a7a61706921), func() error {
			other, err := OpenPostgres(ctx, url)
			if err == nil {
				other.Close()
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, tc.oldLock, tc.arg); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- tc.call() }()
			// The store's transaction waits for the lock the old SQL holds.
			deadline := time.Now().Add(30 * time.Second) // a hang guard
			for {
				var waiting int
				if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks
					WHERE locktype = 'advisory' AND NOT granted
					AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				if waiting > 0 {
					break
				}
				select {
				case err := <-done:
					t.Fatalf("finished without waiting for the old version's lock (error %v)", err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatal("the store never waited for the lock")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("after the lock was released: %v", err)
			}
		})
	}
}
