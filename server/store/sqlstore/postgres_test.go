package sqlstore

import (
	"sync"
	"testing"

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
