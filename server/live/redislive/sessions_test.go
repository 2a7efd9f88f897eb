package redislive

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/server/live"
)

// TestSessionTTL: sessions carry a safety TTL that writes and TouchSessions refresh; an expired
// session leaves the indexes when they are listed.
func TestSessionTTL(t *testing.T) {
	ctx := t.Context()
	rdb := client(t, redistest.Start(t))
	ttl := 600 * time.Millisecond
	st := New(rdb, Options{Prefix: prefix(), KeyTTL: ttl})
	for _, id := range []string{"touched", "written", "idle"} {
		if err := st.CreateSession(ctx, &live.Session{ID: id, UserID: "u"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Append(ctx, id, 1, "x", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2*ttl + 100*time.Millisecond)
	for time.Now().Before(deadline) {
		if err := st.TouchSession(ctx, "touched"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Append(ctx, "written", 0, "x", nil, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, id := range []string{"touched", "written"} {
		if _, err := st.Session(ctx, id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if entries, _, err := st.History(ctx, id, 0); err != nil || len(entries) == 0 {
			t.Fatalf("history of %s: %v %v", id, entries, err)
		}
	}
	if _, err := st.Session(ctx, "idle"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("idle session: %v", err)
	}
	if n := rdb.Exists(ctx, st.historyKey("idle")).Val(); n != 0 {
		t.Fatal("the idle session's history is still there")
	}
	all, _ := st.Sessions(ctx)
	mine, _ := st.UserSessions(ctx, "u")
	if len(all) != 2 || len(mine) != 2 {
		t.Fatalf("listed %d and %d sessions", len(all), len(mine))
	}
	for _, set := range []string{st.sessionsKey(), st.userSessionsKey("u")} {
		if members := rdb.SMembers(ctx, set).Val(); len(members) != 2 || slices.Contains(members, "idle") {
			t.Fatalf("%s holds %v", set, members)
		}
	}
	if gone, err := st.TouchSessions(ctx, "touched", "idle"); err != nil || !slices.Equal(gone, []string{"idle"}) {
		t.Fatalf("touch: %v %v", gone, err)
	}
}
