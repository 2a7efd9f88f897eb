package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

func testRunners(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.Runner(ctx, "r1")
	wantErr(t, "Runner unknown", err, store.ErrNotFound)

	r1 := store.Runner{ID: "r1", UserID: "u1", SecretHash: hash("secret 1"), Name: "laptop", CreatedAt: t0, LastSeenAt: t0}
	r2 := store.Runner{ID: "r2", UserID: "u1", SecretHash: hash("secret 2"), Name: "desktop", CreatedAt: t0, LastSeenAt: t0}
	for _, r := range []store.Runner{r1, r2} {
		must(t, "SaveRunner "+r.ID, s.SaveRunner(ctx, r))
	}
	checkRunner(t, s, r1)

	update := r1
	update.SecretHash, update.Name, update.LastSeenAt, update.CreatedAt = hash("rotated"), "work laptop", at(time.Hour), at(time.Hour)
	must(t, "SaveRunner update", s.SaveRunner(ctx, update))
	want := update
	want.CreatedAt = r1.CreatedAt
	checkRunner(t, s, want)
	checkRunner(t, s, r2)
}

// checkRunner compares the stored runner want.ID with want.
func checkRunner(t *testing.T, s store.Store, want store.Runner) {
	t.Helper()
	got, err := s.Runner(t.Context(), want.ID)
	must(t, "Runner "+want.ID, err)
	check(t, "Runner "+want.ID, want, got)
}

func testRecentFolders(t *testing.T, s store.Store) {
	ctx := t.Context()
	add := func(runnerID, path string, d time.Duration) {
		t.Helper()
		must(t, "AddRecentFolder", s.AddRecentFolder(ctx, runnerID, path, at(d)))
	}
	list := func(runnerID string, limit int, want ...string) {
		t.Helper()
		got, err := s.RecentFolders(ctx, runnerID, limit)
		must(t, "RecentFolders", err)
		if len(got) == 0 {
			got = nil
		}
		check(t, fmt.Sprintf("RecentFolders(%s, %d)", runnerID, limit), want, got)
	}

	list("r1", 10)
	add("r1", "/a", 1*time.Minute)
	add("r1", "/b", 2*time.Minute)
	add("r1", "/c", 3*time.Minute)
	list("r1", 10, "/c", "/b", "/a")
	add("r1", "/a", 4*time.Minute)
	list("r1", 10, "/a", "/c", "/b")
	list("r1", 2, "/a", "/c")
	add("r2", "/x", 5*time.Minute)
	list("r2", 10, "/x")
	list("r1", 10, "/a", "/c", "/b")

	var want []string
	for i := range 25 {
		path := fmt.Sprintf("/f%02d", i)
		add("r3", path, time.Duration(i)*time.Minute)
		want = append([]string{path}, want...)
	}
	list("r3", 100, want[:20]...)
	add("r3", "/f10", time.Hour)
	list("r3", 100, append([]string{"/f10"}, append(want[:14:14], want[15:20]...)...)...)
	add("r3", "/f00", 2*time.Hour)
	list("r3", 100, append([]string{"/f00", "/f10"}, append(want[:14:14], want[15:19]...)...)...)
}
