package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

// hash returns the SHA-256 of s, the way keys, tokens and secrets are stored.
func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// user returns an account with the given id and email.
func user(id, email string) store.User {
	return store.User{ID: id, Email: email, Name: "Name of " + id, PasswordHash: "$argon2id$v=19$" + id, CreatedAt: t0}
}

// createUsers stores users and stops the test on failure.
func createUsers(t *testing.T, s store.Store, users ...store.User) {
	t.Helper()
	for _, u := range users {
		must(t, "CreateUser "+u.ID, s.CreateUser(t.Context(), u))
	}
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := user("u1", "Alice@Example.COM")
	createUsers(t, s, alice, user("u2", "bob@example.com"))
	want := alice
	want.Email = "alice@example.com"

	got, err := s.UserByEmail(ctx, "aLiCe@example.com")
	must(t, "UserByEmail", err)
	check(t, "UserByEmail", want, got)
	got, err = s.UserByID(ctx, "u1")
	must(t, "UserByID", err)
	check(t, "UserByID", want, got)

	wantErr(t, "CreateUser with a taken email", s.CreateUser(ctx, user("u3", "ALICE@example.com")), store.ErrExists)
	wantErr(t, "CreateUser with a taken id", s.CreateUser(ctx, user("u1", "carol@example.com")), store.ErrExists)
	got, err = s.UserByEmail(ctx, "alice@example.com")
	must(t, "UserByEmail after failed creations", err)
	check(t, "UserByEmail after failed creations", want, got)

	_, err = s.UserByEmail(ctx, "nobody@example.com")
	wantErr(t, "UserByEmail unknown", err, store.ErrNotFound)
	_, err = s.UserByID(ctx, "nobody")
	wantErr(t, "UserByID unknown", err, store.ErrNotFound)
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := user("u1", "alice@example.com"), user("u2", "bob@example.com")
	createUsers(t, s, alice, bob)
	key := func(id, userID, name string) store.APIKey {
		return store.APIKey{ID: id, UserID: userID, Name: name, Prefix: "pz_" + id, Hash: hash(id), CreatedAt: at(time.Minute), LastUsedAt: at(time.Minute)}
	}
	keys := []store.APIKey{key("k1", "u1", "cli"), key("k2", "u1", "cli"), key("k3", "u1", "runner"), key("k4", "u2", "cli")}
	for _, k := range keys {
		must(t, "CreateAPIKey "+k.ID, s.CreateAPIKey(ctx, k))
	}
	dup := key("k5", "u2", "cli")
	dup.Hash = hash("k1")
	wantErr(t, "CreateAPIKey with a taken hash", s.CreateAPIKey(ctx, dup), store.ErrExists)

	for _, now := range []time.Time{at(time.Hour), at(2 * time.Hour)} {
		u, k, err := s.UserByAPIKey(ctx, hash("k1"), now)
		must(t, "UserByAPIKey", err)
		check(t, "UserByAPIKey user", alice, u)
		want := keys[0]
		want.LastUsedAt = now
		check(t, "UserByAPIKey key", want, k)
	}
	_, _, err := s.UserByAPIKey(ctx, hash("unknown"), at(time.Hour))
	wantErr(t, "UserByAPIKey unknown", err, store.ErrNotFound)

	n, err := s.DeleteAPIKeys(ctx, "u1", "cli")
	must(t, "DeleteAPIKeys", err)
	if n != 2 {
		t.Errorf("DeleteAPIKeys(u1, cli) = %d, want 2", n)
	}
	for _, id := range []string{"k1", "k2"} {
		_, _, err := s.UserByAPIKey(ctx, hash(id), at(time.Hour))
		wantErr(t, "UserByAPIKey deleted "+id, err, store.ErrNotFound)
	}
	for _, k := range []store.APIKey{keys[2], keys[3]} {
		_, got, err := s.UserByAPIKey(ctx, k.Hash, at(time.Hour))
		must(t, "UserByAPIKey kept "+k.ID, err)
		check(t, "kept key id", k.ID, got.ID)
	}
	for _, c := range []struct{ userID, name string }{{"u1", "cli"}, {"u3", "cli"}, {"u2", "runner"}} {
		n, err := s.DeleteAPIKeys(ctx, c.userID, c.name)
		must(t, "DeleteAPIKeys", err)
		if n != 0 {
			t.Errorf("DeleteAPIKeys(%s, %s) = %d, want 0", c.userID, c.name, n)
		}
	}
}

func testListAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	createUsers(t, s, user("u1", "alice@example.com"), user("u2", "bob@example.com"))
	got, err := s.APIKeys(ctx, "u1")
	must(t, "APIKeys of a user without keys", err)
	if got == nil || len(got) != 0 {
		t.Errorf("APIKeys of a user without keys = %#v, want an empty list", got)
	}
	key := func(id, userID string, created time.Duration) store.APIKey {
		// A key that was never used has a zero LastUsedAt, which must survive the round trip.
		return store.APIKey{ID: id, UserID: userID, Name: "key " + id, Prefix: "pzp_" + id, Hash: hash(id), CreatedAt: at(created)}
	}
	k1, k2, k3 := key("k1", "u1", time.Minute), key("k2", "u1", time.Hour), key("k3", "u2", 2*time.Hour)
	for _, k := range []store.APIKey{k1, k2, k3} {
		must(t, "CreateAPIKey "+k.ID, s.CreateAPIKey(ctx, k))
	}
	got, err = s.APIKeys(ctx, "u1")
	must(t, "APIKeys", err)
	check(t, "APIKeys (newest first, never used)", []store.APIKey{k2, k1}, got)
	if !got[0].LastUsedAt.IsZero() {
		t.Errorf("LastUsedAt of an unused key = %v, want the zero time", got[0].LastUsedAt)
	}

	_, _, err = s.UserByAPIKey(ctx, hash("k1"), at(3*time.Hour))
	must(t, "UserByAPIKey", err)
	got, err = s.APIKeys(ctx, "u1")
	must(t, "APIKeys after a use", err)
	k1.LastUsedAt = at(3 * time.Hour)
	check(t, "APIKeys after a use", []store.APIKey{k2, k1}, got)

	wantErr(t, "DeleteAPIKey of another user's key", s.DeleteAPIKey(ctx, "u1", "k3"), store.ErrNotFound)
	wantErr(t, "DeleteAPIKey unknown", s.DeleteAPIKey(ctx, "u1", "nope"), store.ErrNotFound)
	must(t, "DeleteAPIKey", s.DeleteAPIKey(ctx, "u1", "k1"))
	wantErr(t, "DeleteAPIKey again", s.DeleteAPIKey(ctx, "u1", "k1"), store.ErrNotFound)
	_, _, err = s.UserByAPIKey(ctx, hash("k1"), at(4*time.Hour))
	wantErr(t, "UserByAPIKey of a deleted key", err, store.ErrNotFound)
	got, err = s.APIKeys(ctx, "u1")
	must(t, "APIKeys after delete", err)
	check(t, "APIKeys after delete", []store.APIKey{k2}, got)
	got, err = s.APIKeys(ctx, "u2")
	must(t, "APIKeys of the other user", err)
	check(t, "APIKeys of the other user", []store.APIKey{k3}, got)
}

func testBrowserSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := user("u1", "alice@example.com"), user("u2", "bob@example.com")
	createUsers(t, s, alice, bob)
	must(t, "CreateBrowserSession", s.CreateBrowserSession(ctx, hash("t1"), "u1", at(time.Hour)))
	must(t, "CreateBrowserSession", s.CreateBrowserSession(ctx, hash("t2"), "u2", at(time.Hour)))
	wantErr(t, "CreateBrowserSession with a taken token", s.CreateBrowserSession(ctx, hash("t1"), "u2", at(time.Hour)), store.ErrExists)

	for token, want := range map[string]store.User{"t1": alice, "t2": bob} {
		got, err := s.UserByBrowserSession(ctx, hash(token), at(time.Hour-time.Millisecond))
		must(t, "UserByBrowserSession", err)
		check(t, "UserByBrowserSession "+token, want, got)
	}
	for _, now := range []time.Time{at(time.Hour), at(2 * time.Hour)} {
		_, err := s.UserByBrowserSession(ctx, hash("t1"), now)
		wantErr(t, "UserByBrowserSession expired", err, store.ErrNotFound)
	}
	_, err := s.UserByBrowserSession(ctx, hash("unknown"), t0)
	wantErr(t, "UserByBrowserSession unknown", err, store.ErrNotFound)

	must(t, "DeleteBrowserSession", s.DeleteBrowserSession(ctx, hash("t1")))
	_, err = s.UserByBrowserSession(ctx, hash("t1"), t0)
	wantErr(t, "UserByBrowserSession deleted", err, store.ErrNotFound)
	must(t, "DeleteBrowserSession again", s.DeleteBrowserSession(ctx, hash("t1")))
	must(t, "DeleteBrowserSession unknown", s.DeleteBrowserSession(ctx, hash("unknown")))
	if _, err := s.UserByBrowserSession(ctx, hash("t2"), t0); err != nil {
		t.Errorf("UserByBrowserSession t2 after deleting t1: %v", err)
	}

	must(t, "CreateBrowserSession", s.CreateBrowserSession(ctx, hash("t3"), "u1", at(2*time.Hour)))
	must(t, "CreateBrowserSession", s.CreateBrowserSession(ctx, hash("t4"), "u1", at(3*time.Hour)))
	n, err := s.DeleteExpiredBrowserSessions(ctx, at(2*time.Hour))
	must(t, "DeleteExpiredBrowserSessions", err)
	if n != 2 {
		t.Errorf("DeleteExpiredBrowserSessions = %d, want 2 (t2 and t3)", n)
	}
	got, err := s.UserByBrowserSession(ctx, hash("t4"), at(2*time.Hour))
	must(t, "UserByBrowserSession t4 after DeleteExpiredBrowserSessions", err)
	check(t, "UserByBrowserSession t4", alice, got)
	n, err = s.DeleteExpiredBrowserSessions(ctx, at(2*time.Hour))
	must(t, "DeleteExpiredBrowserSessions again", err)
	if n != 0 {
		t.Errorf("DeleteExpiredBrowserSessions again = %d, want 0", n)
	}
}
