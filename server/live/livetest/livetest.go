// Package livetest is the conformance suite of live.Store implementations: every method and the
// semantics written in live.go's doc comments, including the concurrent ones (atomic updates,
// gap-free sequence numbers, a single winner of DeleteSession).
//
// An implementation's test calls Run with a function that opens an empty store keeping
// HistorySize events per session:
//
//	func TestStore(t *testing.T) {
//		livetest.Run(t, func(t *testing.T) live.Store { return live.NewMemory(livetest.HistorySize) })
//	}
package livetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/live"
)

// HistorySize is the number of events per session the stores given to Run must keep.
const HistorySize = 8

// Run runs the suite; open returns a new, empty store for one subtest (a store of its own, or
// one that shares nothing with the stores of the other subtests).
func Run(t *testing.T, open func(t *testing.T) live.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st live.Store)
	}{
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionCopies", testSessionCopies},
		{"CreateSessionReplaces", testCreateSessionReplaces},
		{"UpdateSession", testUpdateSession},
		{"UpdateSessionConcurrent", testUpdateSessionConcurrent},
		{"UpdateSessionWithAppends", testUpdateSessionWithAppends},
		{"DeleteSession", testDeleteSession},
		{"DeleteSessionOnce", testDeleteSessionOnce},
		{"ListSessions", testListSessions},
		{"AppendSequence", testAppendSequence},
		{"AppendDuplicates", testAppendDuplicates},
		{"AppendDuplicatesConcurrent", testAppendDuplicatesConcurrent},
		{"AppendConcurrent", testAppendConcurrent},
		{"AppendExpiry", testAppendExpiry},
		{"History", testHistory},
		{"HistoryEdges", testHistoryEdges},
		{"Snapshot", testSnapshot},
		{"SnapshotConsistent", testSnapshotConsistent},
		{"Runners", testRunners},
		{"RunnerCopies", testRunnerCopies},
		{"UserRunners", testUserRunners},
		{"Terminals", testTerminals},
		{"UpdateTerminalConcurrent", testUpdateTerminalConcurrent},
		{"RunnerTerminals", testRunnerTerminals},
		{"Output", testOutput},
		{"Links", testLinks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// exportAll lets cmp look into the unexported fields of protocol.Optional.
var exportAll = cmp.Exporter(func(reflect.Type) bool { return true })

// same fails the test when got differs from want (times are compared with Equal).
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, exportAll); d != "" {
		t.Fatalf("%s differs (-want +got):\n%s", what, d)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// t0 is a time with a zone other than UTC and nanoseconds, to see that times survive storage.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))

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

// checkAllFieldsSet guards the round-trip tests against fields added to the live types later:
// every exported field of v must be non-zero, except the named ones.
func checkAllFieldsSet(t *testing.T, v any, except ...string) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if f.IsExported() && rv.Field(i).IsZero() && !slices.Contains(except, f.Name) {
			t.Fatalf("the suite does not set %s.%s: extend its round-trip value", rv.Type().Name(), f.Name)
		}
	}
}

func testSessionRoundTrip(t *testing.T, st live.Store) {
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

func testSessionCopies(t *testing.T, st live.Store) {
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

func testCreateSessionReplaces(t *testing.T, st live.Store) {
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

func testUpdateSession(t *testing.T, st live.Store) {
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

// counter reads and bumps a number kept in Cwd.
func bump(s *live.Session) error {
	n, _ := strconv.Atoi(s.Cwd)
	s.Cwd = strconv.Itoa(n + 1)
	return nil
}

func testUpdateSessionConcurrent(t *testing.T, st live.Store) {
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
func testUpdateSessionWithAppends(t *testing.T, st live.Store) {
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

func testDeleteSession(t *testing.T, st live.Store) {
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

func testDeleteSessionOnce(t *testing.T, st live.Store) {
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

func ids(list []*live.Session) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

func testListSessions(t *testing.T, st live.Store) {
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

func testAppendSequence(t *testing.T, st live.Store) {
	ctx := t.Context()
	if _, err := st.Append(ctx, "nope", 1, "x", nil, nil); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	must(t, st.CreateSession(ctx, &live.Session{ID: "s", UserID: "u"}))
	must(t, st.CreateSession(ctx, &live.Session{ID: "t", UserID: "u"}))
	for i := 1; i <= 5; i++ {
		seq, err := st.Append(ctx, "s", int64(i), "x", []byte(fmt.Sprint(i)), nil)
		if err != nil || seq != int64(i) {
			t.Fatalf("append %d: seq %d, %v", i, seq, err)
		}
	}
	// Sessions are numbered independently.
	if seq, err := st.Append(ctx, "t", 1, "x", nil, nil); err != nil || seq != 1 {
		t.Fatalf("first event of another session: %d %v", seq, err)
	}
	s, _ := st.Session(ctx, "s")
	if s.Seq != 5 || s.CLISeq != 5 {
		t.Fatalf("seq %d cliSeq %d", s.Seq, s.CLISeq)
	}
	// Events of any type and content are kept as given.
	odd := []byte("{\"a\":\"\\u0000 ü \\n\",\"b\":[1,2]}\n")
	seq, err := st.Append(ctx, "s", 0, "message_update", odd, nil)
	must(t, err)
	entries, _, err := st.History(ctx, "s", seq-1)
	must(t, err)
	same(t, "entry", entries, []live.Entry{{Seq: seq, Type: "message_update", Event: odd}})
}

func testAppendDuplicates(t *testing.T, st live.Store) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	for _, cli := range []int64{1, 2, 3} {
		if _, err := st.Append(ctx, "s", cli, "x", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, cli := range []int64{2, 3, 1} {
		if _, err := st.Append(ctx, "s", cli, "x", nil, nil); !errors.Is(err, live.ErrDuplicate) {
			t.Fatalf("cli seq %d: %v", cli, err)
		}
	}
	// Unnumbered events are never duplicates.
	for want := int64(4); want <= 6; want++ {
		seq, err := st.Append(ctx, "s", 0, "x", nil, nil)
		if err != nil || seq != want {
			t.Fatalf("unnumbered: %d %v", seq, err)
		}
	}
	// A jump forward is accepted and becomes the new CLI number.
	if seq, err := st.Append(ctx, "s", 10, "x", nil, nil); err != nil || seq != 7 {
		t.Fatalf("cli seq 10: %d %v", seq, err)
	}
	if _, err := st.Append(ctx, "s", 9, "x", nil, nil); !errors.Is(err, live.ErrDuplicate) {
		t.Fatalf("cli seq 9 after 10: %v", err)
	}
	s, _ := st.Session(ctx, "s")
	if s.CLISeq != 10 || s.Seq != 7 {
		t.Fatalf("session %+v", s)
	}
	// Duplicates add nothing to the history.
	entries, complete, _ := st.History(ctx, "s", 0)
	if len(entries) != 7 || !complete {
		t.Fatalf("history holds %d events (complete %v), want 7", len(entries), complete)
	}
	if _, _, err := st.History(ctx, "nope", 0); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}

// testAppendDuplicatesConcurrent sends the same CLI event from several goroutines (a CLI that
// resent it to another node): exactly one is published.
func testAppendDuplicatesConcurrent(t *testing.T, st live.Store) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	for cli := int64(1); cli <= 5; cli++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		published, dups := 0, 0
		for range 6 {
			wg.Go(func() {
				_, err := st.Append(ctx, "s", cli, "x", nil, nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					published++
				case errors.Is(err, live.ErrDuplicate):
					dups++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if published != 1 || dups != 5 {
			t.Fatalf("cli seq %d: published %d times, %d duplicates", cli, published, dups)
		}
	}
	s, _ := st.Session(ctx, "s")
	if s.Seq != 5 || s.CLISeq != 5 {
		t.Fatalf("seq %d cliSeq %d", s.Seq, s.CLISeq)
	}
}

func testAppendConcurrent(t *testing.T, st live.Store) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	const workers, each = 20, 10
	const n = workers * each
	var wg sync.WaitGroup
	seqs := make(chan int64, n)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				seq, err := st.Append(ctx, "s", 0, "x", fmt.Appendf(nil, `{"w":%d,"i":%d}`, w, i), nil)
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- seq
			}
		})
	}
	wg.Wait()
	close(seqs)
	seen := make([]int, n+1)
	for seq := range seqs {
		if seq < 1 || seq > n {
			t.Fatalf("seq %d out of 1..%d", seq, n)
		}
		seen[seq]++
	}
	for seq := 1; seq <= n; seq++ {
		if seen[seq] != 1 {
			t.Fatalf("seq %d given %d times", seq, seen[seq])
		}
	}
	s, _ := st.Session(ctx, "s")
	if s.Seq != n {
		t.Fatalf("session seq %d, want %d", s.Seq, n)
	}
	entries, complete, err := st.History(ctx, "s", 0)
	must(t, err)
	if complete || len(entries) != HistorySize {
		t.Fatalf("history: %d entries, complete %v", len(entries), complete)
	}
	for i, e := range entries {
		if e.Seq != n-HistorySize+1+int64(i) {
			t.Fatalf("history entry %d has seq %d", i, e.Seq)
		}
	}
}

func testAppendExpiry(t *testing.T, st live.Store) {
	ctx := t.Context()
	exp1 := t0.Add(time.Hour)
	must(t, st.CreateSession(ctx, &live.Session{ID: "s", IsEphemeral: true, ExpiresAt: &exp1}))
	// No expiry given: the session keeps its own.
	_, err := st.Append(ctx, "s", 1, "x", nil, nil)
	must(t, err)
	s, _ := st.Session(ctx, "s")
	if s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp1) {
		t.Fatalf("expiry changed by an append without one: %v", s.ExpiresAt)
	}
	exp2 := t0.Add(2 * time.Hour)
	_, err = st.Append(ctx, "s", 0, "x", nil, &exp2)
	must(t, err)
	s, _ = st.Session(ctx, "s")
	if s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp2) {
		t.Fatalf("expiry not refreshed: %v", s.ExpiresAt)
	}
	// A duplicate does not refresh it.
	exp3 := t0.Add(3 * time.Hour)
	if _, err := st.Append(ctx, "s", 1, "x", nil, &exp3); !errors.Is(err, live.ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	s, _ = st.Session(ctx, "s")
	if !s.ExpiresAt.Equal(exp2) {
		t.Fatalf("a duplicate refreshed the expiry: %v", s.ExpiresAt)
	}
	// A session without expiry gets one.
	must(t, st.CreateSession(ctx, &live.Session{ID: "t"}))
	_, err = st.Append(ctx, "t", 0, "x", nil, &exp3)
	must(t, err)
	s, _ = st.Session(ctx, "t")
	if s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp3) {
		t.Fatalf("expiry not set: %v", s.ExpiresAt)
	}
	// And the expiry is read by UpdateSession and listed.
	_, err = st.UpdateSession(ctx, "t", func(s *live.Session) error {
		if s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp3) {
			return fmt.Errorf("fn sees expiry %v", s.ExpiresAt)
		}
		return nil
	})
	must(t, err)
	list, _ := st.Sessions(ctx)
	for _, s := range list {
		if s.ID == "t" && (s.ExpiresAt == nil || !s.ExpiresAt.Equal(exp3)) {
			t.Fatalf("listed expiry %v", s.ExpiresAt)
		}
	}
}

func seqsOf(entries []live.Entry) string {
	seqs := []int64{}
	for _, e := range entries {
		seqs = append(seqs, e.Seq)
	}
	return fmt.Sprint(seqs)
}

func testHistory(t *testing.T, st live.Store) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	const total = HistorySize + 7
	for i := 1; i <= total; i++ {
		seq, err := st.Append(ctx, "s", int64(i), fmt.Sprint("type", i), []byte(fmt.Sprint(i)), nil)
		if err != nil || seq != int64(i) {
			t.Fatalf("append %d: seq %d, %v", i, seq, err)
		}
		// While nothing was dropped the history is complete from 0.
		entries, complete, err := st.History(ctx, "s", 0)
		must(t, err)
		if want := i <= HistorySize; complete != want || len(entries) != min(i, HistorySize) {
			t.Fatalf("after %d appends: %d entries, complete %v", i, len(entries), complete)
		}
	}
	oldest := int64(total - HistorySize + 1)
	seqRange := func(from, to int64) string {
		seqs := []int64{}
		for s := from; s <= to; s++ {
			seqs = append(seqs, s)
		}
		return fmt.Sprint(seqs)
	}
	cases := []struct {
		after    int64
		want     string
		complete bool
	}{
		{total, "[]", true},
		{total + 5, "[]", true},
		{total - 2, seqRange(total-1, total), true},
		{oldest - 1, seqRange(oldest, total), true},
		{oldest, seqRange(oldest+1, total), true},
		{oldest - 2, seqRange(oldest, total), false},
		{0, seqRange(oldest, total), false},
		{-1, seqRange(oldest, total), false},
	}
	for _, tc := range cases {
		entries, complete, err := st.History(ctx, "s", tc.after)
		must(t, err)
		if got := seqsOf(entries); got != tc.want || complete != tc.complete {
			t.Errorf("after %d: %s complete=%v, want %s %v", tc.after, got, complete, tc.want, tc.complete)
		}
		for _, e := range entries {
			if string(e.Event) != fmt.Sprint(e.Seq) || e.Type != fmt.Sprint("type", e.Seq) {
				t.Fatalf("entry %d holds %s %s", e.Seq, e.Type, e.Event)
			}
		}
	}
}

func testHistoryEdges(t *testing.T, st live.Store) {
	ctx := t.Context()
	// No events yet.
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	entries, complete, err := st.History(ctx, "s", 0)
	if err != nil || len(entries) != 0 || !complete {
		t.Fatalf("fresh session: %v %v %v", entries, complete, err)
	}
	// A session created with a sequence number has none of the events up to it.
	must(t, st.CreateSession(ctx, &live.Session{ID: "t", Seq: 5}))
	entries, complete, _ = st.History(ctx, "t", 0)
	if len(entries) != 0 || complete {
		t.Fatalf("session created at seq 5, after 0: %v complete=%v", seqsOf(entries), complete)
	}
	entries, complete, _ = st.History(ctx, "t", 5)
	if len(entries) != 0 || !complete {
		t.Fatalf("session created at seq 5, after 5: %v complete=%v", seqsOf(entries), complete)
	}
	_, err = st.Append(ctx, "t", 0, "x", nil, nil)
	must(t, err)
	entries, complete, _ = st.History(ctx, "t", 5)
	if seqsOf(entries) != "[6]" || !complete {
		t.Fatalf("after 5: %v complete=%v", seqsOf(entries), complete)
	}
	entries, complete, _ = st.History(ctx, "t", 4)
	if seqsOf(entries) != "[6]" || complete {
		t.Fatalf("after 4: %v complete=%v", seqsOf(entries), complete)
	}
	// Exactly HistorySize events: all kept.
	must(t, st.CreateSession(ctx, &live.Session{ID: "u"}))
	for range HistorySize {
		_, err := st.Append(ctx, "u", 0, "x", nil, nil)
		must(t, err)
	}
	entries, complete, _ = st.History(ctx, "u", 0)
	if len(entries) != HistorySize || !complete {
		t.Fatalf("full history: %d entries complete=%v", len(entries), complete)
	}
}

func testSnapshot(t *testing.T, st live.Store) {
	ctx := t.Context()
	if _, _, _, err := st.Snapshot(ctx, "nope"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	if err := st.SetHeartbeat(ctx, "nope", []byte("{}")); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("SetHeartbeat on an unknown session: %v", err)
	}
	if err := st.SetState(ctx, "nope", []byte("{}")); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("SetState on an unknown session: %v", err)
	}
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	hb, state, seq, err := st.Snapshot(ctx, "s")
	if err != nil || hb != nil || state != nil || seq != 0 {
		t.Fatalf("fresh session: %s %s %d %v", hb, state, seq, err)
	}
	must(t, st.SetHeartbeat(ctx, "s", []byte(`{"type":"heartbeat","n":1}`)))
	hb, state, seq, _ = st.Snapshot(ctx, "s")
	if string(hb) != `{"type":"heartbeat","n":1}` || state != nil || seq != 0 {
		t.Fatalf("after a heartbeat: %s %s %d", hb, state, seq)
	}
	_, err = st.Append(ctx, "s", 1, "heartbeat", []byte(`{}`), nil)
	must(t, err)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	must(t, st.SetState(ctx, "s", big))
	must(t, st.SetHeartbeat(ctx, "s", []byte(`{"type":"heartbeat","n":2}`)))
	_, err = st.Append(ctx, "s", 2, "session_active", []byte(`{}`), nil)
	must(t, err)
	hb, state, seq, _ = st.Snapshot(ctx, "s")
	if string(hb) != `{"type":"heartbeat","n":2}` || string(state) != string(big) || seq != 2 {
		t.Fatalf("snapshot: %s (%d bytes of state) %d", hb, len(state), seq)
	}
	// Setting them does not touch the session record or its history.
	s, _ := st.Session(ctx, "s")
	if s.Seq != 2 || s.CLISeq != 2 {
		t.Fatalf("session %+v", s)
	}
	if entries, complete, _ := st.History(ctx, "s", 0); len(entries) != 2 || !complete {
		t.Fatalf("history: %v %v", seqsOf(entries), complete)
	}
}

// testSnapshotConsistent checks that a snapshot never pairs a state with a sequence number it
// could not have been taken at. The writer follows the relay's order: state, then Append.
func testSnapshotConsistent(t *testing.T, st live.Store) {
	ctx := t.Context()
	must(t, st.CreateSession(ctx, &live.Session{ID: "s"}))
	const n = 150
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= n; i++ {
			v := []byte(strconv.Itoa(i))
			if err := st.SetState(ctx, "s", v); err != nil {
				t.Error(err)
				return
			}
			if err := st.SetHeartbeat(ctx, "s", v); err != nil {
				t.Error(err)
				return
			}
			if _, err := st.Append(ctx, "s", int64(i), "x", v, nil); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				hb, state, seq, err := st.Snapshot(ctx, "s")
				if err != nil {
					t.Error(err)
					return
				}
				if state == nil {
					if seq != 0 {
						t.Errorf("no state at seq %d", seq)
					}
					continue
				}
				sv, _ := strconv.ParseInt(string(state), 10, 64)
				hv, _ := strconv.ParseInt(string(hb), 10, 64)
				// State i is set before event i is appended and after event i-1 was.
				if sv != seq && sv != seq+1 {
					t.Errorf("state %d with seq %d", sv, seq)
					return
				}
				if hb != nil && hv != seq && hv != seq+1 {
					t.Errorf("heartbeat %d with seq %d", hv, seq)
					return
				}
			}
		})
	}
	wg.Wait()
}

func fullRunner(id, user, conn string, connected time.Time) *live.Runner {
	return &live.Runner{
		ID: id, UserID: user, UserName: "name of " + user, Name: "runner " + id,
		Roots:       []string{"/home/" + user, "/srv"},
		Skills:      []protocol.RunnerSkill{{Name: "deploy", Description: "Deploys", FilePath: "/skills/deploy.md"}},
		Conn:        conn,
		ConnectedAt: connected,
	}
}

func testRunners(t *testing.T, st live.Store) {
	ctx := t.Context()
	if _, err := st.Runner(ctx, "nope"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown runner: %v", err)
	}
	if err := st.SetRunnerSkills(ctx, "nope", nil); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("SetRunnerSkills on an unknown runner: %v", err)
	}
	if deleted, err := st.DeleteRunner(ctx, "nope", ""); err != nil || deleted {
		t.Fatalf("deleting an unknown runner: %v %v", deleted, err)
	}
	r := fullRunner("r", "u", "c1", t0)
	checkAllFieldsSet(t, r)
	must(t, st.PutRunner(ctx, r))
	got, err := st.Runner(ctx, "r")
	must(t, err)
	same(t, "runner", got, r)

	skills := []protocol.RunnerSkill{{Name: "a", Description: "A", FilePath: "/a"}, {Name: "b", Description: "B", FilePath: "/b"}}
	must(t, st.SetRunnerSkills(ctx, "r", skills))
	got, _ = st.Runner(ctx, "r")
	want := fullRunner("r", "u", "c1", t0)
	want.Skills = skills
	same(t, "runner with new skills", got, want)
	must(t, st.SetRunnerSkills(ctx, "r", nil))
	got, _ = st.Runner(ctx, "r")
	if len(got.Skills) != 0 {
		t.Fatalf("skills not cleared: %v", got.Skills)
	}

	// The runner registers again on another connection: the old one's disconnect is stale.
	must(t, st.PutRunner(ctx, fullRunner("r", "u", "c2", t0.Add(time.Minute))))
	got, _ = st.Runner(ctx, "r")
	same(t, "re-registered runner", got, fullRunner("r", "u", "c2", t0.Add(time.Minute)))
	if deleted, err := st.DeleteRunner(ctx, "r", "c1"); err != nil || deleted {
		t.Fatalf("a stale connection removed the runner: %v %v", deleted, err)
	}
	if _, err := st.Runner(ctx, "r"); err != nil {
		t.Fatalf("runner gone after a stale delete: %v", err)
	}
	if deleted, err := st.DeleteRunner(ctx, "r", "c2"); err != nil || !deleted {
		t.Fatalf("the runner's connection could not remove it: %v %v", deleted, err)
	}
	if _, err := st.Runner(ctx, "r"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("runner after delete: %v", err)
	}
	if deleted, _ := st.DeleteRunner(ctx, "r", "c2"); deleted {
		t.Fatal("deleted twice")
	}
	// "" removes it whatever its connection.
	must(t, st.PutRunner(ctx, fullRunner("r", "u", "c3", t0)))
	if deleted, err := st.DeleteRunner(ctx, "r", ""); err != nil || !deleted {
		t.Fatalf("delete with no connection: %v %v", deleted, err)
	}
	if list, _ := st.UserRunners(ctx, "u"); len(list) != 0 {
		t.Fatalf("deleted runner still listed: %v", list)
	}
}

func testRunnerCopies(t *testing.T, st live.Store) {
	ctx := t.Context()
	in := fullRunner("r", "u", "c", t0)
	must(t, st.PutRunner(ctx, in))
	in.Roots[0], in.Skills[0].Name, in.Name = "/changed", "changed", "changed"
	got, _ := st.Runner(ctx, "r")
	same(t, "runner after changing the value given", got, fullRunner("r", "u", "c", t0))
	got.Roots[0], got.Skills[0].Name, got.Conn = "/changed", "changed", "changed"
	again, _ := st.Runner(ctx, "r")
	same(t, "runner after changing a returned copy", again, fullRunner("r", "u", "c", t0))
	list, _ := st.UserRunners(ctx, "u")
	list[0].Roots[1] = "/changed"
	again, _ = st.Runner(ctx, "r")
	same(t, "runner after changing a listed copy", again, fullRunner("r", "u", "c", t0))
	skills := []protocol.RunnerSkill{{Name: "x"}}
	must(t, st.SetRunnerSkills(ctx, "r", skills))
	skills[0].Name = "changed"
	again, _ = st.Runner(ctx, "r")
	if again.Skills[0].Name != "x" {
		t.Fatalf("SetRunnerSkills kept the caller's slice: %v", again.Skills)
	}
}

func testUserRunners(t *testing.T, st live.Store) {
	ctx := t.Context()
	if list, err := st.UserRunners(ctx, "u1"); err != nil || len(list) != 0 {
		t.Fatalf("empty store: %v %v", list, err)
	}
	// Put out of connection order; listed by connection time.
	for i, u := range []string{"u1", "u2", "u1", "u1"} {
		connected := t0.Add(time.Duration(10-i) * time.Minute)
		must(t, st.PutRunner(ctx, fullRunner(fmt.Sprint("r", i), u, "c", connected)))
	}
	list, err := st.UserRunners(ctx, "u1")
	must(t, err)
	var got []string
	for _, r := range list {
		got = append(got, r.ID)
		same(t, "listed runner", r, fullRunner(r.ID, "u1", "c", r.ConnectedAt))
	}
	if fmt.Sprint(got) != "[r3 r2 r0]" {
		t.Fatalf("UserRunners(u1): %v", got)
	}
	// A runner id registered again by another user moves to that user.
	must(t, st.PutRunner(ctx, fullRunner("r2", "u2", "c", t0)))
	list, _ = st.UserRunners(ctx, "u1")
	if len(list) != 2 {
		t.Fatalf("u1 lists %d runners after r2 moved", len(list))
	}
	list, _ = st.UserRunners(ctx, "u2")
	if len(list) != 2 {
		t.Fatalf("u2 lists %d runners", len(list))
	}
}

func testTerminals(t *testing.T, st live.Store) {
	ctx := t.Context()
	if _, err := st.Terminal(ctx, "nope"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown terminal: %v", err)
	}
	if _, err := st.UpdateTerminal(ctx, "nope", func(*live.Terminal) error { return nil }); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("UpdateTerminal on an unknown terminal: %v", err)
	}
	if existed, err := st.DeleteTerminal(ctx, "nope"); err != nil || existed {
		t.Fatalf("deleting an unknown terminal: %v %v", existed, err)
	}
	term := &live.Terminal{ID: "t", RunnerID: "r", UserID: "u", Cwd: "/w", Cols: 80, Rows: 24, Spawned: true, Exited: true, CreatedAt: t0}
	checkAllFieldsSet(t, term)
	term.Spawned, term.Exited = false, false
	must(t, st.PutTerminal(ctx, term))
	term.Cols = 1 // the store keeps its own copy
	got, err := st.Terminal(ctx, "t")
	must(t, err)
	want := &live.Terminal{ID: "t", RunnerID: "r", UserID: "u", Cwd: "/w", Cols: 80, Rows: 24, CreatedAt: t0}
	same(t, "terminal", got, want)
	got.Rows = 2
	if again, _ := st.Terminal(ctx, "t"); again.Rows != 24 {
		t.Fatal("Terminal returned the stored value")
	}

	up, err := st.UpdateTerminal(ctx, "t", func(t *live.Terminal) error {
		t.Spawned = true
		t.Cols, t.Rows = 120, 40
		return nil
	})
	must(t, err)
	want.Spawned, want.Cols, want.Rows = true, 120, 40
	same(t, "UpdateTerminal result", up, want)
	up.Cols = 1
	got, _ = st.Terminal(ctx, "t")
	same(t, "updated terminal", got, want)

	boom := errors.New("boom")
	if _, err := st.UpdateTerminal(ctx, "t", func(t *live.Terminal) error { t.Exited = true; return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	got, _ = st.Terminal(ctx, "t")
	same(t, "terminal after a failed update", got, want)

	must(t, st.BufferOutput(ctx, "t", live.Output{Event: "terminal_data", Payload: []byte("held")}, 10))
	if existed, err := st.DeleteTerminal(ctx, "t"); err != nil || !existed {
		t.Fatalf("delete: %v %v", existed, err)
	}
	if _, err := st.Terminal(ctx, "t"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("terminal after delete: %v", err)
	}
	if out, err := st.TakeOutput(ctx, "t"); err != nil || len(out) != 0 {
		t.Fatalf("buffered output survived the terminal: %v %v", out, err)
	}
	if existed, _ := st.DeleteTerminal(ctx, "t"); existed {
		t.Fatal("deleted twice")
	}
	if list, _ := st.RunnerTerminals(ctx, "r"); len(list) != 0 {
		t.Fatalf("deleted terminal still listed: %v", list)
	}
}

func testUpdateTerminalConcurrent(t *testing.T, st live.Store) {
	ctx := t.Context()
	must(t, st.PutTerminal(ctx, &live.Terminal{ID: "t", RunnerID: "r"}))
	const workers, each = 10, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := st.UpdateTerminal(ctx, "t", func(t *live.Terminal) error { t.Cols++; return nil }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, _ := st.Terminal(ctx, "t")
	if got.Cols != workers*each {
		t.Fatalf("lost updates: %d, want %d", got.Cols, workers*each)
	}
}

func terminalIDs(list []*live.Terminal) string {
	var out []string
	for _, t := range list {
		out = append(out, t.ID)
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

func testRunnerTerminals(t *testing.T, st live.Store) {
	ctx := t.Context()
	if list, err := st.RunnerTerminals(ctx, "r1"); err != nil || len(list) != 0 {
		t.Fatalf("empty store: %v %v", list, err)
	}
	for i, r := range []string{"r1", "r2", "r1"} {
		must(t, st.PutTerminal(ctx, &live.Terminal{ID: fmt.Sprint("t", i), RunnerID: r, UserID: "u", CreatedAt: t0.Add(time.Duration(i) * time.Second)}))
	}
	list, err := st.RunnerTerminals(ctx, "r1")
	must(t, err)
	if got := terminalIDs(list); got != "[t0 t2]" {
		t.Fatalf("RunnerTerminals(r1): %s", got)
	}
	for _, term := range list {
		same(t, "listed terminal", term, &live.Terminal{ID: term.ID, RunnerID: "r1", UserID: "u", CreatedAt: term.CreatedAt})
	}
	list[0].Cols = 7
	if again, _ := st.Terminal(ctx, list[0].ID); again.Cols != 0 {
		t.Fatal("RunnerTerminals returned the stored value")
	}
	// Moving a terminal to another runner.
	_, err = st.UpdateTerminal(ctx, "t2", func(t *live.Terminal) error { t.RunnerID = "r2"; return nil })
	must(t, err)
	l1, _ := st.RunnerTerminals(ctx, "r1")
	l2, _ := st.RunnerTerminals(ctx, "r2")
	if terminalIDs(l1) != "[t0]" || terminalIDs(l2) != "[t1 t2]" {
		t.Fatalf("after moving t2: r1 %s, r2 %s", terminalIDs(l1), terminalIDs(l2))
	}
	// Putting it again under another runner too.
	must(t, st.PutTerminal(ctx, &live.Terminal{ID: "t0", RunnerID: "r2"}))
	l1, _ = st.RunnerTerminals(ctx, "r1")
	l2, _ = st.RunnerTerminals(ctx, "r2")
	if terminalIDs(l1) != "[]" || terminalIDs(l2) != "[t0 t1 t2]" {
		t.Fatalf("after putting t0 on r2: r1 %s, r2 %s", terminalIDs(l1), terminalIDs(l2))
	}
}

func testOutput(t *testing.T, st live.Store) {
	ctx := t.Context()
	if out, err := st.TakeOutput(ctx, "none"); err != nil || len(out) != 0 {
		t.Fatalf("nothing buffered: %v %v", out, err)
	}
	must(t, st.PutTerminal(ctx, &live.Terminal{ID: "t", RunnerID: "r"}))
	must(t, st.PutTerminal(ctx, &live.Terminal{ID: "u", RunnerID: "r"}))
	binary := []byte{0, 1, 2, 0xff, '\n', 0}
	var want []live.Output
	for i := range 5 {
		o := live.Output{Event: fmt.Sprint("ev", i), Payload: append(fmt.Appendf(nil, "%d:", i), binary...)}
		want = append(want, o)
		must(t, st.BufferOutput(ctx, "t", o, 3))
	}
	must(t, st.BufferOutput(ctx, "u", live.Output{Event: "terminal_exit", Payload: []byte(`{"code":0}`)}, 3))
	out, err := st.TakeOutput(ctx, "t")
	must(t, err)
	same(t, "buffered output", out, want[2:])
	if out, err := st.TakeOutput(ctx, "t"); err != nil || len(out) != 0 {
		t.Fatalf("output not cleared: %v %v", out, err)
	}
	out, _ = st.TakeOutput(ctx, "u")
	same(t, "other terminal's output", out, []live.Output{{Event: "terminal_exit", Payload: []byte(`{"code":0}`)}})
	// Buffering starts again after a take; an empty payload stays empty.
	must(t, st.BufferOutput(ctx, "t", live.Output{Event: "x"}, 3))
	out, _ = st.TakeOutput(ctx, "t")
	if len(out) != 1 || out[0].Event != "x" || len(out[0].Payload) != 0 {
		t.Fatalf("after a take: %+v", out)
	}
	// A limit of one keeps the newest.
	for i := range 4 {
		must(t, st.BufferOutput(ctx, "t", live.Output{Event: fmt.Sprint(i)}, 1))
	}
	out, _ = st.TakeOutput(ctx, "t")
	if len(out) != 1 || out[0].Event != "3" {
		t.Fatalf("limit 1: %+v", out)
	}
}

func testLinks(t *testing.T, st live.Store) {
	ctx := t.Context()
	if _, ok, err := st.TakeLink(ctx, "s"); err != nil || ok {
		t.Fatalf("no link: %v %v", ok, err)
	}
	must(t, st.SetLink(ctx, "s", "r", time.Minute))
	must(t, st.SetLink(ctx, "s2", "r2", time.Minute))
	if id, ok, err := st.TakeLink(ctx, "s"); err != nil || !ok || id != "r" {
		t.Fatalf("link: %q %v %v", id, ok, err)
	}
	if _, ok, _ := st.TakeLink(ctx, "s"); ok {
		t.Fatal("link taken twice")
	}
	// Setting it again replaces it.
	must(t, st.SetLink(ctx, "s2", "r3", time.Minute))
	if id, ok, _ := st.TakeLink(ctx, "s2"); !ok || id != "r3" {
		t.Fatalf("replaced link: %q %v", id, ok)
	}
	// An expired link is not taken.
	must(t, st.SetLink(ctx, "s", "r", 30*time.Millisecond))
	time.Sleep(80 * time.Millisecond)
	if _, ok, _ := st.TakeLink(ctx, "s"); ok {
		t.Fatal("expired link taken")
	}
	// A concurrent take gets the link once.
	must(t, st.SetLink(ctx, "s", "r", time.Minute))
	var wg sync.WaitGroup
	taken := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			_, ok, err := st.TakeLink(ctx, "s")
			if err != nil {
				t.Error(err)
			}
			taken <- ok
		})
	}
	wg.Wait()
	close(taken)
	n := 0
	for ok := range taken {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("link taken %d times", n)
	}
}
