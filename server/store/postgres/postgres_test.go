package postgres

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pizzapi/pizzapi/server/store"
	"github.com/pizzapi/pizzapi/server/store/storetest"
)

// adminURL is the database the tests connect to in order to create and drop their own.
func adminURL() string {
	if u := os.Getenv("PIZZAPI_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// connectAdmin connects to adminURL; when PostgreSQL cannot be reached it skips the test, or fails
// it when PIZZAPI_TEST_REQUIRE_POSTGRES=1.
func connectAdmin(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL())
	if err == nil {
		return conn
	}
	if os.Getenv("PIZZAPI_TEST_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("PostgreSQL unreachable at PIZZAPI_TEST_POSTGRES_URL=%s: %v", adminURL(), err)
	}
	t.Skipf("PostgreSQL unreachable at %s (set PIZZAPI_TEST_POSTGRES_URL; PIZZAPI_TEST_REQUIRE_POSTGRES=1 fails instead of skipping): %v",
		adminURL(), err)
	return nil
}

// freshDatabase creates an empty database for the test, dropped when the test ends, and returns
// its URL.
func freshDatabase(t *testing.T) string {
	t.Helper()
	admin := connectAdmin(t)
	defer admin.Close(context.Background())
	name := "pizzapi_test_" + strings.ToLower(rand.Text()[:16]) // unquoted identifiers are lower-cased
	if _, err := admin.Exec(t.Context(), `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		admin := connectAdmin(t)
		defer admin.Close(context.Background())
		if _, err := admin.Exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL())
	if err != nil {
		t.Fatalf("PIZZAPI_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), freshDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConcurrentMigrations(t *testing.T) {
	dbURL := freshDatabase(t)
	const nodes = 3
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dbURL) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}

	names, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(names) {
		t.Errorf("schema_migrations has %d rows, want %d", applied, len(names))
	}
	u := store.User{ID: "u1", Email: "alice@example.com", Name: "Alice", PasswordHash: "hash"}
	if err := stores[1].CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[2].UserByID(t.Context(), "u1"); err != nil {
		t.Errorf("a user created through one node is not visible through another: %v", err)
	}
}
