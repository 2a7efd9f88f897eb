package livetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/live"
)

// RunSessions runs the suite of SessionStore: open returns a new, empty store for one subtest (a
// store of its own, or one that shares nothing with the stores of the other subtests). The suite
// also checks that a session's events come and go with it.
func RunSessions(t *testing.T, open func(t *testing.T) Sessions) {
	suite(t, open, []testCase[Sessions]{
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionCopies", testSessionCopies},
		{"CreateSessionReplaces", testCreateSessionReplaces},
		{"UpdateSession", testUpdateSession},
		{"UpdateSessionConcurrent", testUpdateSessionConcurrent},
		{"UpdateSessionWithAppends", testUpdateSessionWithAppends},
		{"DeleteSession", testDeleteSession},
		{"DeleteSessionOnce", testDeleteSessionOnce},
		{"ListSessions", testListSessions},
	})
}

// fullSession returns a session with every field set.
func fullSession(id, user string, started time.Time) *live.Session {
	return &live.Session{
		ID:              id,
		UserID:          user,
		UserName:        "name of " + user,
		Token:           "token-" + id,
		Cwd:             "/home/" + user + "/project",
		ShareURL:        "https://relay.example/session/" + id,
		StartedAt:       started,
		SessionName:     ptr("session " + id),
		IsEphemeral:     true,
		CollabMode:      true,
		ExpiresAt:       ptr(started.Add(10 * time.Minute)),
		IsActive:        true,
		LastHeartbeatAt: ptr(started.Add(time.Second)),
		Model:           &protocol.ModelInfo{Provider: "anthropic", ID: "claude", Name: protocol.Some("Claude")},
		RunnerID:        ptr("runner-1"),
		RunnerName:      ptr("laptop"),
		Seq:             0,
		CLISeq:          0,
		Conn:            "conn-" + id,
		DisconnectedAt:  ptr(started.Add(2 * time.Second)),
	}
}

// counter reads and bumps a number kept in Cwd.
func bump(s *live.Session) error {
	n, _ := strconv.Atoi(s.Cwd)
	s.Cwd = strconv.Itoa(n + 1)
	return nil
}

func ids(list []*live.Session) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

func testSessionRoundTrip(t *testing.T, st Sessions) {
	ctx := t.Context()
	if _, err := st.Session(ctx, "nope"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	full := fullSession("s1", "u1", t0)
	full.Seq, full.CLISeq = 7, 5 // a store keeps the counters it is given
	checkAllFieldsSet(t, full)
	must(t, st.CreateSession(ctx, full))
	got, err := st.Session(ctx, "s1")
	must(t, err)
	same(t, "session", got, full)
	if seq, err := st.Append(ctx, "s1", 6, "x", []byte(`{}`), nil); err != nil || seq != 8 {
		t.Fatalf("append after the given counters: %d %v", seq, err)
	}

	bare := &live.Session{ID: "s2", UserID: "u1"}
	must(t, st.CreateSession(ctx, bare))
	got, err = st.Session(ctx, "s2")
	must(t, err)
	same(t, "bare session", got, bare)
	// A model without its optional name stays without it.
	_, err = st.UpdateSession(ctx, "s2", func(s *live.Session) error {
		s.Model = &protocol.ModelInfo{Provider: "p", ID: "m"}
		return nil
	})
	must(t, err)
	got, _ = st.Session(ctx, "s2")
	same(t, "model", got.Model, &protocol.ModelInfo{Provider: "p", ID: "m"})
}

func testSessionCopies(t *testing.T, st Sessions) {
	ctx := t.Context()
	in := fullSession("s", "u", t0)
	must(t, st.CreateSession(ctx, in))
	// Changing the value given to CreateSession does not change the store.
	in.Cwd, in.IsActive, in.SessionName = "/elsewhere", false, nil
	got, err := st.Session(ctx, "s")
	must(t, err)
	same(t, "stored session", got, fullSession("s", "u", t0))
	// Nor does changing a returned value.
	got.Cwd, got.UserID, got.Seq, got.ExpiresAt = "/changed", "other", 99, nil
	again, _ := st.Session(ctx, "s")
	same(t, "session after changing a returned copy", again, fullSession("s", "u", t0))
	up, err := st.UpdateSession(ctx, "s", func(s *live.Session) error { s.Cwd = "/updated"; return nil })
	must(t, err)
	up.Cwd = "/changed again"
	again, _ = st.Session(ctx, "s")
	if again.Cwd != "/updated" {
		t.Fatalf("UpdateSession's result is not a copy: cwd %q", again.Cwd)
	}
	list, _ := st.Sessions(ctx)
	if len(list) != 1 {
		t.Fatalf("%d sessions", len(list))
	}
	list[0].Cwd = "/listed"
	again, _ = st.Session(ctx, "s")
	if again.Cwd != "/updated" {
		t.Fatalf("Sessions returned the stored value: cwd %q", again.Cwd)
	}
}

func testCreateSessionReplaces(t *testing.T, st Sessions) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, fullSession("s", "u", t0)))
	for i := 1; i <= 3; i++ {
		_, err := st.Append(ctx, "s", int64(i), "x", []byte(`{"old":true}`), nil)
		must(t, err)
	}
	must(t, st.SetHeartbeat(ctx, "s", []byte(`{"type":"heartbeat"}`)))
	must(t, st.SetState(ctx, "s", []byte(`{"type":"session_active"}`)))

	repl := &live.Session{ID: "s", UserID: "u2", Cwd: "/new", StartedAt: t0.Add(time.Hour)}
	must(t, st.CreateSession(ctx, repl))
	got, err := st.Session(ctx, "s")
	must(t, err)
	same(t, "replacement", got, repl)
	entries, complete, err := st.History(ctx, "s", 0)
	must(t, err)
	if len(entries) != 0 || !complete {
		t.Fatalf("the replaced session's history is still there: %v complete=%v", entries, complete)
	}
	hb, state, seq, err := st.Snapshot(ctx, "s")
	must(t, err)
	if hb != nil || state != nil || seq != 0 {
		t.Fatalf("the replaced session's snapshot is still there: %s %s %d", hb, state, seq)
	}
	// The replacement numbers its events from 1 and accepts CLI numbers from 1.
	seq, err = st.Append(ctx, "s", 1, "y", []byte(`{"new":true}`), nil)
	if err != nil || seq != 1 {
		t.Fatalf("first event of the replacement: %d %v", seq, err)
	}
	entries, complete, err = st.History(ctx, "s", 0)
	must(t, err)
	if len(entries) != 1 || !complete || string(entries[0].Event) != `{"new":true}` || entries[0].Type != "y" {
		t.Fatalf("history of the replacement: %+v complete=%v", entries, complete)
	}
	// It is listed once, under its new owner.
	list, _ := st.Sessions(ctx)
	if len(list) != 1 || list[0].UserID != "u2" {
		t.Fatalf("sessions after the replacement: %+v", list)
	}
	if mine, _ := st.UserSessions(ctx, "u"); len(mine) != 0 {
		t.Fatalf("the old owner still lists the session: %+v", mine)
	}
	if mine, _ := st.UserSessions(ctx, "u2"); len(mine) != 1 {
		t.Fatalf("the new owner lists %d sessions", len(mine))
	}
}

func testUpdateSession(t *testing.T, st Sessions) {
	ctx := t.Context()
	if _, err := st.UpdateSession(ctx, "nope", func(*live.Session) error { return nil }); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	must(t, st.CreateSession(ctx, &live.Session{ID: "s", UserID: "u", StartedAt: t0}))
	_, err := st.Append(ctx, "s", 4, "x", nil, nil)
	must(t, err)

	hb := t0.Add(time.Minute)
	got, err := st.UpdateSession(ctx, "s", func(s *live.Session) error {
		if s.Seq != 1 || s.CLISeq != 4 {
			return fmt.Errorf("fn sees seq %d cliSeq %d, want 1 and 4", s.Seq, s.CLISeq)
		}
		s.IsActive = true
		s.LastHeartbeatAt = &hb
		s.SessionName = ptr("named")
		s.Model = &protocol.ModelInfo{Provider: "p", ID: "m", Name: protocol.Some("M")}
		s.ExpiresAt = ptr(t0.Add(time.Hour))
		return nil
	})
	must(t, err)
	want := &live.Session{ID: "s", UserID: "u", StartedAt: t0, IsActive: true, LastHeartbeatAt: &hb,
		SessionName: ptr("named"), Model: &protocol.ModelInfo{Provider: "p", ID: "m", Name: protocol.Some("M")},
		ExpiresAt: ptr(t0.Add(time.Hour)), Seq: 1, CLISeq: 4}
	same(t, "UpdateSession result", got, want)
	stored, _ := st.Session(ctx, "s")
	same(t, "updated session", stored, want)

	// An error from fn is returned and changes nothing.
	boom := errors.New("boom")
	if _, err := st.UpdateSession(ctx, "s", func(s *live.Session) error {
		s.Cwd, s.IsActive, s.ExpiresAt = "/changed", false, nil
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	stored, _ = st.Session(ctx, "s")
	same(t, "session after a failed update", stored, want)

	// Clearing pointers sticks.
	_, err = st.UpdateSession(ctx, "s", func(s *live.Session) error {
		s.ExpiresAt, s.SessionName, s.Model = nil, nil, nil
		return nil
	})
	must(t, err)
	stored, _ = st.Session(ctx, "s")
	if stored.ExpiresAt != nil || stored.SessionName != nil || stored.Model != nil {
		t.Fatalf("cleared fields came back: %+v", stored)
	}
}

func testUpdateSessionConcurrent(t *testing.T, st Sessions) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s", UserID: "u", Cwd: "0"}))
	const workers, each = 10, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := st.UpdateSession(ctx, "s", bump); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, _ := st.Session(ctx, "s")
	if s.Cwd != strconv.Itoa(workers*each) {
		t.Fatalf("lost updates: counter %s, want %d", s.Cwd, workers*each)
	}
}

// testUpdateSessionWithAppends checks that updates and appends running at the same time lose
// nothing: updates do not rewrite the counters that appends move, nor the reverse.
func testUpdateSessionWithAppends(t *testing.T, st Sessions) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s", UserID: "u", Cwd: "0", IsEphemeral: true}))
	const updaters, updates, appends = 4, 10, 60
	exp := t0.Add(time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, updaters*updates+appends)
	for range updaters {
		wg.Go(func() {
			for range updates {
				if _, err := st.UpdateSession(ctx, "s", bump); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Go(func() {
		for i := 1; i <= appends; i++ {
			if _, err := st.Append(ctx, "s", int64(i), "x", nil, &exp); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, _ := st.Session(ctx, "s")
	if s.Cwd != strconv.Itoa(updaters*updates) || s.Seq != appends || s.CLISeq != appends || s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp) {
		t.Fatalf("after concurrent updates and appends: cwd %s seq %d cliSeq %d expires %v", s.Cwd, s.Seq, s.CLISeq, s.ExpiresAt)
	}
}

func testDeleteSession(t *testing.T, st Sessions) {
	ctx := t.Context()
	if s, deleted, err := st.DeleteSession(ctx, "nope"); err != nil || deleted || s != nil {
		t.Fatalf("deleting an unknown session: %v %v %v", s, deleted, err)
	}
	full := fullSession("s", "u", t0)
	must(t, st.CreateSession(ctx, full))
	must(t, st.CreateSession(ctx, fullSession("other", "u", t0)))
	for i := 1; i <= 3; i++ {
		_, err := st.Append(ctx, "s", int64(i), "x", []byte("{}"), nil)
		must(t, err)
	}
	must(t, st.SetHeartbeat(ctx, "s", []byte(`{"hb":1}`)))
	must(t, st.SetState(ctx, "s", []byte(`{"state":1}`)))

	s, deleted, err := st.DeleteSession(ctx, "s")
	must(t, err)
	if !deleted {
		t.Fatal("not deleted")
	}
	full.Seq, full.CLISeq = 3, 3
	same(t, "deleted session", s, full)

	if _, err := st.Session(ctx, "s"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("Session after delete: %v", err)
	}
	if _, _, err := st.History(ctx, "s", 0); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("History after delete: %v", err)
	}
	if _, _, _, err := st.Snapshot(ctx, "s"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("Snapshot after delete: %v", err)
	}
	if _, err := st.Append(ctx, "s", 4, "x", nil, nil); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("Append after delete: %v", err)
	}
	if err := st.SetHeartbeat(ctx, "s", []byte("{}")); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("SetHeartbeat after delete: %v", err)
	}
	if err := st.SetState(ctx, "s", []byte("{}")); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("SetState after delete: %v", err)
	}
	if _, err := st.UpdateSession(ctx, "s", bump); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("UpdateSession after delete: %v", err)
	}
	if _, deleted, err := st.DeleteSession(ctx, "s"); err != nil || deleted {
		t.Fatalf("second delete: %v %v", deleted, err)
	}
	list, _ := st.Sessions(ctx)
	if len(list) != 1 || list[0].ID != "other" {
		t.Fatalf("sessions after delete: %+v", list)
	}
	mine, _ := st.UserSessions(ctx, "u")
	if len(mine) != 1 || mine[0].ID != "other" {
		t.Fatalf("user sessions after delete: %+v", mine)
	}
	// The id can be used again, with nothing of the old session.
	must(t, st.CreateSession(ctx, &live.Session{ID: "s", UserID: "u"}))
	if entries, complete, err := st.History(ctx, "s", 0); err != nil || len(entries) != 0 || !complete {
		t.Fatalf("history of the new session: %v %v %v", entries, complete, err)
	}
	if hb, state, seq, err := st.Snapshot(ctx, "s"); err != nil || hb != nil || state != nil || seq != 0 {
		t.Fatalf("snapshot of the new session: %s %s %d %v", hb, state, seq, err)
	}
}

func testDeleteSessionOnce(t *testing.T, st Sessions) {
	ctx := t.Context()
	for round := range 5 {
		id := fmt.Sprint("s", round)
		must(t, st.CreateSession(ctx, &live.Session{ID: id, UserID: "u"}))
		const callers = 8
		var wg sync.WaitGroup
		results := make(chan bool, callers)
		start := make(chan struct{})
		for range callers {
			wg.Go(func() {
				<-start
				s, deleted, err := st.DeleteSession(ctx, id)
				if err != nil {
					t.Error(err)
				}
				if deleted && (s == nil || s.ID != id) {
					t.Errorf("deleted without the session: %+v", s)
				}
				results <- deleted
			})
		}
		close(start)
		wg.Wait()
		close(results)
		n := 0
		for d := range results {
			if d {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d of %d callers deleted the session", n, callers)
		}
	}
}

func testListSessions(t *testing.T, st Sessions) {
	ctx := t.Context()
	if list, err := st.Sessions(ctx); err != nil || len(list) != 0 {
		t.Fatalf("empty store lists %v %v", list, err)
	}
	if list, err := st.UserSessions(ctx, "u1"); err != nil || len(list) != 0 {
		t.Fatalf("empty store lists %v %v", list, err)
	}
	for i, u := range []string{"u1", "u2", "u1", "u3", "u1"} {
		must(t, st.CreateSession(ctx, fullSession(fmt.Sprint("s", i), u, t0.Add(time.Duration(i)*time.Minute))))
	}
	_, err := st.Append(ctx, "s2", 1, "x", nil, nil)
	must(t, err)
	all, err := st.Sessions(ctx)
	must(t, err)
	if got := ids(all); fmt.Sprint(got) != "[s0 s1 s2 s3 s4]" {
		t.Fatalf("Sessions: %v", got)
	}
	for _, s := range all {
		want := fullSession(s.ID, s.UserID, s.StartedAt)
		if s.ID == "s2" {
			want.Seq, want.CLISeq = 1, 1
		}
		same(t, "listed session", s, want)
	}
	u1, err := st.UserSessions(ctx, "u1")
	must(t, err)
	if got := ids(u1); fmt.Sprint(got) != "[s0 s2 s4]" {
		t.Fatalf("UserSessions(u1): %v", got)
	}
	if got, _ := st.UserSessions(ctx, "nobody"); len(got) != 0 {
		t.Fatalf("UserSessions(nobody): %v", ids(got))
	}
	_, _, err = st.DeleteSession(ctx, "s2")
	must(t, err)
	u1, _ = st.UserSessions(ctx, "u1")
	if got := ids(u1); fmt.Sprint(got) != "[s0 s4]" {
		t.Fatalf("UserSessions(u1) after a delete: %v", got)
	}
	// A session moved to another user (UpdateSession) is listed under the new one only.
	_, err = st.UpdateSession(ctx, "s4", func(s *live.Session) error { s.UserID = "u3"; return nil })
	must(t, err)
	u1, _ = st.UserSessions(ctx, "u1")
	u3, _ := st.UserSessions(ctx, "u3")
	if fmt.Sprint(ids(u1)) != "[s0]" || fmt.Sprint(ids(u3)) != "[s3 s4]" {
		t.Fatalf("after moving s4 to u3: u1 %v, u3 %v", ids(u1), ids(u3))
	}
}
