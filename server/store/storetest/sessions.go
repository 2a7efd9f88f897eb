package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

// session returns a live relay session of the user, last active at t0 + active.
func session(id, userID string, active time.Duration, expiresAt *time.Time) store.RelaySession {
	return store.RelaySession{
		ID:           id,
		UserID:       userID,
		UserName:     "Name of " + userID,
		Cwd:          "/home/" + userID + "/src",
		ShareURL:     "https://relay.example.com/s/" + id,
		StartedAt:    t0,
		LastActiveAt: at(active),
		IsEphemeral:  expiresAt != nil,
		ExpiresAt:    expiresAt,
	}
}

// saveSessions stores relay sessions and stops the test on failure.
func saveSessions(t *testing.T, s store.Store, sessions ...store.RelaySession) {
	t.Helper()
	for _, rs := range sessions {
		must(t, "SaveRelaySession "+rs.ID, s.SaveRelaySession(t.Context(), rs))
	}
}

// checkSession compares the stored record of want.ID with want.
func checkSession(t *testing.T, what string, s store.Store, want store.RelaySession) {
	t.Helper()
	got, err := s.RelaySession(t.Context(), want.ID)
	must(t, what+": RelaySession", err)
	check(t, what, want, got)
}

func testRelaySessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := session("s1", "u1", 0, ptr(at(24*time.Hour)))
	saveSessions(t, s, want)
	checkSession(t, "saved", s, want)

	must(t, "TouchRelaySession", s.TouchRelaySession(ctx, "s1", at(time.Minute), ptr(at(25*time.Hour))))
	want.LastActiveAt, want.ExpiresAt = at(time.Minute), ptr(at(25*time.Hour))
	checkSession(t, "touched with an expiry", s, want)
	must(t, "TouchRelaySession", s.TouchRelaySession(ctx, "s1", at(2*time.Minute), nil))
	want.LastActiveAt, want.ExpiresAt = at(2*time.Minute), nil
	checkSession(t, "touched without an expiry", s, want)

	must(t, "EndRelaySession", s.EndRelaySession(ctx, "s1", at(3*time.Minute), ptr(at(48*time.Hour))))
	want.EndedAt, want.ExpiresAt = ptr(at(3*time.Minute)), ptr(at(48*time.Hour))
	checkSession(t, "ended with an expiry", s, want)
	must(t, "EndRelaySession", s.EndRelaySession(ctx, "s1", at(4*time.Minute), nil))
	want.EndedAt, want.ExpiresAt = ptr(at(4*time.Minute)), nil
	checkSession(t, "ended without an expiry", s, want)

	again := session("s1", "u1", 10*time.Minute, ptr(at(30*time.Hour)))
	again.StartedAt, again.Cwd, again.ShareURL = at(10*time.Minute), "/elsewhere", ""
	saveSessions(t, s, again)
	checkSession(t, "re-registered", s, again)

	ended := session("s2", "u2", time.Minute, nil)
	ended.EndedAt = ptr(at(time.Hour))
	saveSessions(t, s, ended)
	checkSession(t, "saved ended", s, ended)
	checkSession(t, "other session untouched", s, again)

	_, err := s.RelaySession(ctx, "unknown")
	wantErr(t, "RelaySession unknown", err, store.ErrNotFound)
	wantErr(t, "TouchRelaySession unknown", s.TouchRelaySession(ctx, "unknown", t0, nil), store.ErrNotFound)
	wantErr(t, "EndRelaySession unknown", s.EndRelaySession(ctx, "unknown", t0, nil), store.ErrNotFound)
}

func testListRelaySessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := session("a", "u1", 1*time.Minute, nil)
	b := session("b", "u1", 3*time.Minute, ptr(at(time.Hour)))
	b.EndedAt = ptr(at(4 * time.Minute))
	c := session("c", "u1", 2*time.Minute, ptr(at(10*time.Minute)))
	d := session("d", "u1", 4*time.Minute, ptr(at(30*time.Minute)))
	e := session("e", "u2", 5*time.Minute, nil)
	saveSessions(t, s, a, b, c, d, e)

	for _, tc := range []struct {
		name   string
		userID string
		now    time.Time
		limit  int
		want   []store.RelaySession
	}{
		{"expiry at now excluded", "u1", at(10 * time.Minute), 10, []store.RelaySession{d, b, a}},
		{"limit", "u1", at(10 * time.Minute), 2, []store.RelaySession{d, b}},
		{"limit 1", "u1", at(10 * time.Minute), 1, []store.RelaySession{d}},
		{"before any expiry", "u1", t0, 10, []store.RelaySession{d, b, c, a}},
		{"later", "u1", at(30 * time.Minute), 10, []store.RelaySession{b, a}},
		{"no expiry never expires", "u1", at(100 * 365 * 24 * time.Hour), 10, []store.RelaySession{a}},
		{"other user", "u2", t0, 10, []store.RelaySession{e}},
		{"unknown user", "u3", t0, 10, nil},
	} {
		got, err := s.ListRelaySessions(ctx, tc.userID, tc.now, tc.limit)
		must(t, "ListRelaySessions "+tc.name, err)
		if len(got) == 0 {
			got = nil
		}
		check(t, "ListRelaySessions "+tc.name, tc.want, got)
	}

	must(t, "TouchRelaySession", s.TouchRelaySession(ctx, "a", at(20*time.Minute), nil))
	a.LastActiveAt = at(20 * time.Minute)
	got, err := s.ListRelaySessions(ctx, "u1", at(10*time.Minute), 10)
	must(t, "ListRelaySessions after touch", err)
	check(t, "ListRelaySessions after touch", []store.RelaySession{a, d, b}, got)
}

// bigState returns a JSON document of at least size bytes with varied content.
func bigState(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"session_active","messages":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"i":%d,"role":"assistant","text":"line %d: café ☃ 🍕 caf\u00e9 \ud83c\udf55 \"quoted\" \\ \t\n %x"}`, i, i, i*7919)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func testSessionState(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.SessionState(ctx, "s1")
	wantErr(t, "SessionState of an unknown session", err, store.ErrNotFound)
	wantErr(t, "SaveSessionState of an unknown session", s.SaveSessionState(ctx, "s1", []byte(`{}`), t0), store.ErrNotFound)

	saveSessions(t, s, session("s1", "u1", 0, nil), session("s2", "u1", 0, nil))
	_, err = s.SessionState(ctx, "s1")
	wantErr(t, "SessionState before any save", err, store.ErrNotFound)

	big := bigState(5 << 20)
	must(t, "SaveSessionState big", s.SaveSessionState(ctx, "s1", big, at(time.Minute)))
	checkState(t, s, "s1", big)

	small := []byte(`{"type":"session_active","messages":[]}`)
	must(t, "SaveSessionState replace", s.SaveSessionState(ctx, "s1", small, at(2*time.Minute)))
	checkState(t, s, "s1", small)
	must(t, "SaveSessionState s2", s.SaveSessionState(ctx, "s2", big, at(2*time.Minute)))
	checkState(t, s, "s2", big)
	checkState(t, s, "s1", small)

	saveSessions(t, s, session("s1", "u1", time.Hour, nil))
	checkState(t, s, "s1", small)
}

// checkState compares a session's snapshot with want, byte for byte.
func checkState(t *testing.T, s store.Store, sessionID string, want []byte) {
	t.Helper()
	got, err := s.SessionState(t.Context(), sessionID)
	must(t, "SessionState "+sessionID, err)
	if !bytes.Equal(got, want) {
		t.Errorf("SessionState %s: got %d bytes, want %d bytes (identical)", sessionID, len(got), len(want))
	}
}

func testPruneRelaySessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	saveSessions(t, s,
		session("p1", "u1", 0, ptr(at(time.Hour))),
		session("p2", "u2", 0, ptr(at(2*time.Hour))),
		session("p3", "u1", 0, ptr(at(3*time.Hour))),
		session("p4", "u1", 0, nil),
	)
	for _, id := range []string{"p1", "p2", "p3", "p4"} {
		must(t, "SaveSessionState "+id, s.SaveSessionState(ctx, id, []byte(`{"id":"`+id+`"}`), t0))
	}
	prune := func(now time.Time, want ...string) {
		t.Helper()
		got, err := s.PruneRelaySessions(ctx, now)
		must(t, "PruneRelaySessions", err)
		slices.Sort(got)
		if len(got) == 0 {
			got = nil
		}
		check(t, fmt.Sprintf("PruneRelaySessions(%v)", now), want, got)
	}
	prune(at(time.Hour - time.Millisecond))
	prune(at(2*time.Hour), "p1", "p2")
	prune(at(2 * time.Hour))

	for _, id := range []string{"p1", "p2"} {
		_, err := s.RelaySession(ctx, id)
		wantErr(t, "RelaySession pruned "+id, err, store.ErrNotFound)
		_, err = s.SessionState(ctx, id)
		wantErr(t, "SessionState pruned "+id, err, store.ErrNotFound)
	}
	checkState(t, s, "p3", []byte(`{"id":"p3"}`))
	saveSessions(t, s, session("p1", "u1", 0, nil))
	_, err := s.SessionState(ctx, "p1")
	wantErr(t, "SessionState of a pruned then re-saved session", err, store.ErrNotFound)

	prune(at(100*365*24*time.Hour), "p3")
	checkState(t, s, "p4", []byte(`{"id":"p4"}`))
}
