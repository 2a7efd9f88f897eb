// Package pgtest gives tests a fresh PostgreSQL database of their own on the local server.
//
// The server is PIZZAPI_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres,
// trust authentication). When it cannot be reached the test is skipped, unless
// PIZZAPI_TEST_REQUIRE_POSTGRES=1 (as CI sets it), in which case it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
func connectAdmin(t testing.TB) *pgx.Conn {
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

// Database creates an empty database for the test, dropped when the test ends, and returns its
// URL.
func Database(t testing.TB) string {
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
