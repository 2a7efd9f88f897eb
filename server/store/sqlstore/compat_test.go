package sqlstore

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/pizzapi/pizzapi/internal/pgtest"
	"github.com/pizzapi/pizzapi/server/store"
)

// The databases in testdata were made by the stores this package replaced (the hand-written
// server/store/sqlite and server/store/postgres packages), through their Store API, so that the
// tests below show that a relay's existing database opens, migrates and works with this code:
//
//   - sqlite-v1.db and postgres-v1.sql by commit 261c6db, the first store (migration 0001);
//   - sqlite-v3.db and postgres-v3.sql by commit 06bbbeb, the last before this package
//     (migrations 0001 to 0003).
//
// Each holds the records fixtureRecords describes. The PostgreSQL ones are the output of
// pg_dump --inserts --no-owner --no-privileges, loaded by loadDump.

// fixtureT0 is the time the fixtures' records are relative to.
var fixtureT0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func fixtureAt(d time.Duration) time.Time { return fixtureT0.Add(d) }

func timePtr(t time.Time) *time.Time { return &t }

// fixtureRecords checks, through the Store API, the records the fixture of the given migration
// version holds: version 1 has no reserved sequence numbers (they read as 0) and no Web Push data.
func checkFixtureRecords(t *testing.T, s *Store, version int) {
	t.Helper()
	ctx := t.Context()
	alice := store.User{ID: "u1", Email: "alice@example.com", Name: "Alice",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", CreatedAt: fixtureT0}
	bob := store.User{ID: "u2", Email: "bob@example.com", Name: "Bob",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaB", CreatedAt: fixtureAt(time.Second)}
	check := func(what string, want, got any, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", what, d)
		}
	}

	u, err := s.UserByEmail(ctx, "ALICE@example.com")
	check("UserByEmail", alice, u, err)
	u, err = s.UserByID(ctx, "u2")
	check("UserByID", bob, u, err)
	keys, err := s.APIKeys(ctx, "u1")
	check("APIKeys", []store.APIKey{{ID: "k1", UserID: "u1", Name: "cli", Prefix: "pk_abc",
		Hash: []byte("hash-of-key-1-32-bytes-long.....x"), CreatedAt: fixtureAt(2 * time.Second),
		LastUsedAt: fixtureAt(3 * time.Second)}}, keys, err)
	u, k, err := s.UserByAPIKey(ctx, []byte("hash-of-key-2-32-bytes-long.....y"), fixtureAt(time.Hour))
	check("UserByAPIKey", []any{bob, "k2", "runner", fixtureAt(time.Hour)}, []any{u, k.ID, k.Name, k.LastUsedAt}, err)
	u, err = s.UserByBrowserSession(ctx, []byte("browser-token-hash-1"), fixtureAt(time.Hour))
	check("UserByBrowserSession", alice, u, err)

	var seqReserved int64
	if version >= 2 {
		seqReserved = 256
	}
	rs, err := s.RelaySession(ctx, "s1")
	check("RelaySession s1", store.RelaySession{ID: "s1", UserID: "u1", UserName: "Alice", Cwd: "/home/alice/p",
		ShareURL: "https://relay.example/session/s1", StartedAt: fixtureAt(5 * time.Second),
		LastActiveAt: fixtureAt(6 * time.Second), SeqReserved: seqReserved}, rs, err)
	list, err := s.ListRelaySessions(ctx, "u2", fixtureAt(time.Hour), 10)
	check("ListRelaySessions u2", []store.RelaySession{{ID: "s2", UserID: "u2", UserName: "Bob", Cwd: "/home/bob",
		ShareURL: "https://relay.example/session/s2", StartedAt: fixtureAt(7 * time.Second),
		LastActiveAt: fixtureAt(8 * time.Second), EndedAt: timePtr(fixtureAt(9 * time.Second)), IsEphemeral: true,
		ExpiresAt: timePtr(fixtureAt(10 * 24 * time.Hour))}}, list, err)
	state, err := s.SessionState(ctx, "s1")
	check("SessionState", `{"messages":[{"role":"user","content":"hi"}]}`, string(state), err)

	r, err := s.Runner(ctx, "r1")
	check("Runner", store.Runner{ID: "r1", UserID: "u1", SecretHash: []byte("runner-secret-hash"), Name: "laptop",
		CreatedAt: fixtureAt(11 * time.Second), LastSeenAt: fixtureAt(12 * time.Second)}, r, err)
	folders, err := s.RecentFolders(ctx, "r1", 10)
	check("RecentFolders", []string{"/home/alice/q", "/home/alice/p"}, folders, err)

	a, err := s.Attachment(ctx, "a1")
	check("Attachment", store.Attachment{ID: "a1", SessionID: "s1", UserID: "u1", Filename: "notes.txt",
		MediaType: "text/plain", Size: 1234, Path: "attachments/a1", CreatedAt: fixtureAt(15 * time.Second),
		ExpiresAt: fixtureAt(10 * 24 * time.Hour)}, a, err)
	used, err := s.AttachmentBytes(ctx, "u1", fixtureAt(time.Hour))
	check("AttachmentBytes", int64(1234), used, err)

	subs, err := s.PushSubscriptions(ctx, "u1")
	vapid := store.VAPIDKeys{PublicKey: "BNewPublicKey", PrivateKey: "newPrivateKey", CreatedAt: fixtureAt(time.Hour)}
	if version >= 3 {
		check("PushSubscriptions", []store.PushSubscription{{ID: "p1", UserID: "u1", Endpoint: "https://push.example/abc",
			P256DH: "BP256dh", Auth: "authsecret", EnabledEvents: "*", CreatedAt: fixtureAt(16 * time.Second)}}, subs, err)
		vapid = store.VAPIDKeys{PublicKey: "BPublicKey", PrivateKey: "privateKey", CreatedAt: fixtureAt(17 * time.Second)}
	} else {
		check("PushSubscriptions", []store.PushSubscription(nil), subs, err)
	}
	got, err := s.EnsureVAPIDKeys(ctx, store.VAPIDKeys{PublicKey: "BNewPublicKey", PrivateKey: "newPrivateKey", CreatedAt: fixtureAt(time.Hour)})
	check("EnsureVAPIDKeys", vapid, got, err)
}

// checkFixtureWrites changes the fixture's records the way a running relay does.
func checkFixtureWrites(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("CreateUser", s.CreateUser(ctx, store.User{ID: "u3", Email: "carol@example.com", Name: "Carol", CreatedAt: fixtureAt(time.Hour)}))
	if err := s.CreateUser(ctx, store.User{ID: "u4", Email: "alice@example.com"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateUser with a taken email: %v, want ErrExists", err)
	}
	must("ReserveRelaySessionSeq", s.ReserveRelaySessionSeq(ctx, "s1", 512))
	must("AddRecentFolder", s.AddRecentFolder(ctx, "r1", "/home/alice/r", fixtureAt(time.Hour)))
	must("SaveAttachments", s.SaveAttachments(ctx, "u1", []store.Attachment{{ID: "a2", SessionID: "s1", UserID: "u1",
		Size: 100, CreatedAt: fixtureAt(time.Hour), ExpiresAt: fixtureAt(2 * time.Hour)}}, 2000, fixtureAt(time.Hour)))
	must("SavePushSubscription", s.SavePushSubscription(ctx, store.PushSubscription{ID: "p2", UserID: "u2",
		Endpoint: "https://push.example/def", EnabledEvents: "*", CreatedAt: fixtureAt(time.Hour)}, 10))
	rs, err := s.RelaySession(ctx, "s1")
	must("RelaySession", err)
	if rs.SeqReserved != 512 {
		t.Errorf("SeqReserved = %d after reserving 512", rs.SeqReserved)
	}
	ids, err := s.PruneRelaySessions(ctx, fixtureAt(11*24*time.Hour))
	must("PruneRelaySessions", err)
	if d := cmp.Diff([]string{"s2"}, ids); d != "" {
		t.Errorf("PruneRelaySessions (-want +got):\n%s", d)
	}
}

// migrationRows returns schema_migrations, version to applied_at.
func migrationRows(t *testing.T, db *sql.DB) map[int64]int64 {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[int64]int64{}
	for rows.Next() {
		var v, at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		m[v] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkMigrations checks that opening kept the fixture's records of applied migrations and
// added one for each of the others.
func checkMigrations(t *testing.T, before, after map[int64]int64, d *dialect) {
	t.Helper()
	if want := migrationCount(t, d); len(after) != want {
		t.Errorf("%d migrations recorded after opening, want %d", len(after), want)
	}
	for v, at := range before {
		if after[v] != at {
			t.Errorf("migration %d: applied_at %d before opening, %d after: it ran again", v, at, after[v])
		}
	}
}

// checkNextMigration checks that a migration added later applies to the database, once.
func checkNextMigration(t *testing.T, s *Store) {
	t.Helper()
	files := fstest.MapFS{}
	names, err := fs.Glob(s.d.migrations, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(s.d.migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = &fstest.MapFile{Data: b}
	}
	files["9999_next.sql"] = &fstest.MapFile{Data: []byte(`ALTER TABLE users ADD COLUMN nickname TEXT NOT NULL DEFAULT '';
CREATE INDEX users_nickname ON users (nickname);`)}
	for range 2 {
		if err := migrateFrom(t.Context(), s.write, s.d, files); err != nil {
			t.Fatalf("a later migration: %v", err)
		}
	}
	var nick string
	if err := s.read.QueryRowContext(t.Context(), `SELECT nickname FROM users WHERE id = 'u1'`).Scan(&nick); err != nil {
		t.Errorf("the later migration's column: %v", err)
	}
	if _, ok := migrationRows(t, s.write)[9999]; !ok {
		t.Error("the later migration is not recorded")
	}
}

func TestSQLiteOpensEarlierDatabases(t *testing.T) {
	fresh, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	wantSchema := sqliteSchema(t, fresh.read)

	for _, fx := range []struct {
		file    string
		version int
	}{{"sqlite-v1.db", 1}, {"sqlite-v3.db", 3}} {
		t.Run(fx.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", fx.file))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "pizzapi.db")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			before := sqliteMigrationRows(t, path)
			if len(before) != fx.version {
				t.Fatalf("the fixture records %d migrations, want %d", len(before), fx.version)
			}

			s, err := OpenSQLite(t.Context(), path)
			if err != nil {
				t.Fatalf("OpenSQLite: %v", err)
			}
			defer s.Close()
			checkMigrations(t, before, migrationRows(t, s.read), s.d)
			if d := cmp.Diff(wantSchema, sqliteSchema(t, s.read)); d != "" {
				t.Errorf("schema differs from a new database's (-new +migrated):\n%s", d)
			}
			checkFixtureRecords(t, s, fx.version)
			checkFixtureWrites(t, s)
			checkNextMigration(t, s)
		})
	}
}

// sqliteMigrationRows reads schema_migrations of the database file at path without migrating it.
func sqliteMigrationRows(t *testing.T, path string) map[int64]int64 {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return migrationRows(t, db)
}

// sqliteSchema lists the database's tables and indexes with their SQL.
func sqliteSchema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT type || ' ' || name || ': ' || COALESCE(sql, '')
		FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
	list, err := collect(rows, err, scanString)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestPostgresOpensEarlierDatabases(t *testing.T) {
	fresh, err := OpenPostgres(t.Context(), pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	wantSchema := postgresSchema(t, fresh.read)

	for _, fx := range []struct {
		file    string
		version int
	}{{"postgres-v1.sql", 1}, {"postgres-v3.sql", 3}} {
		t.Run(fx.file, func(t *testing.T) {
			url := pgtest.Database(t)
			loadDump(t, url, filepath.Join("testdata", fx.file))
			s, err := OpenPostgres(t.Context(), url)
			if err != nil {
				t.Fatalf("OpenPostgres: %v", err)
			}
			defer s.Close()
			before := dumpMigrationRows(t, filepath.Join("testdata", fx.file))
			if len(before) != fx.version {
				t.Fatalf("the fixture records %d migrations, want %d", len(before), fx.version)
			}
			checkMigrations(t, before, migrationRows(t, s.read), s.d)
			if d := cmp.Diff(wantSchema, postgresSchema(t, s.read)); d != "" {
				t.Errorf("schema differs from a new database's (-new +migrated):\n%s", d)
			}
			checkFixtureRecords(t, s, fx.version)
			checkFixtureWrites(t, s)
			checkNextMigration(t, s)
		})
	}
}

// loadDump runs the SQL of a pg_dump output in the database at url, leaving out psql's
// backslash commands.
func loadDump(t *testing.T, url, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), `\`) {
			script.WriteString(sc.Text() + "\n")
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.PgConn().Exec(ctx, script.String()).ReadAll(); err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
}

// dumpMigrationRows reads the schema_migrations rows a pg_dump output inserts.
func dumpMigrationRows(t *testing.T, path string) map[int64]int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[int64]int64{}
	for line := range strings.Lines(string(b)) {
		var v, at int64
		if n, _ := fmt.Sscanf(line, "INSERT INTO public.schema_migrations VALUES (%d, %d);", &v, &at); n == 2 {
			m[v] = at
		}
	}
	return m
}

// postgresSchema lists the public schema's columns, indexes and constraints.
func postgresSchema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `
		SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' nullable=' || is_nullable ||
			' default=' || COALESCE(column_default, '') || ' position=' || ordinal_position
		FROM information_schema.columns WHERE table_schema = 'public'
		UNION ALL
		SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
		UNION ALL
		SELECT 'constraint ' || conrelid::regclass::text || '.' || conname || ': ' || pg_get_constraintdef(oid)
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace
		ORDER BY 1`)
	list, err := collect(rows, err, scanString)
	if err != nil {
		t.Fatal(err)
	}
	return list
}
