package redislive

import (
	"strings"
	"testing"

	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/server/live"
)

// TestUpdateConflicts: an update whose record another writer changes between its read and its
// write starts again on the new value (fn runs again, and no write is lost), for sessions also
// when only an Append came in between; after maxAttempts conflicts in a row it gives up.
func TestUpdateConflicts(t *testing.T) {
	ctx := t.Context()
	s := New(client(t, redistest.Start(t)), Options{Prefix: prefix()})
	if err := s.PutTerminal(ctx, &live.Terminal{ID: "t", RunnerID: "r"}); err != nil {
		t.Fatal(err)
	}
	other := func(o *live.Terminal) error { o.Rows++; return nil }
	calls := 0
	got, err := s.UpdateTerminal(ctx, "t", func(term *live.Terminal) error {
		calls++
		if calls <= 3 {
			if _, err := s.UpdateTerminal(ctx, "t", other); err != nil {
				return err
			}
		}
		term.Cols = 80
		return nil
	})
	if err != nil || calls != 4 || got.Cols != 80 || got.Rows != 3 {
		t.Fatalf("update with 3 conflicts: %+v %v after %d calls of fn, want cols 80 rows 3 after 4", got, err, calls)
	}
	if stored, _ := s.Terminal(ctx, "t"); stored.Cols != 80 || stored.Rows != 3 {
		t.Fatalf("stored after the conflicts: %+v", stored)
	}

	calls = 0
	_, err = s.UpdateTerminal(ctx, "t", func(term *live.Terminal) error {
		calls++
		_, err := s.UpdateTerminal(ctx, "t", other)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "gave up") || calls != maxAttempts {
		t.Fatalf("an update that always conflicts: %v after %d calls of fn, want to give up after %d", err, calls, maxAttempts)
	}

	if err := s.CreateSession(ctx, &live.Session{ID: "s", UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	calls = 0
	sess, err := s.UpdateSession(ctx, "s", func(sess *live.Session) error {
		calls++
		if calls == 1 {
			if _, err := s.Append(ctx, "s", 1, "x", nil, nil); err != nil {
				return err
			}
		}
		sess.Cwd = "/updated"
		return nil
	})
	if err != nil || calls != 2 || sess.Seq != 1 || sess.CLISeq != 1 || sess.Cwd != "/updated" {
		t.Fatalf("update with an Append in between: %+v %v after %d calls of fn", sess, err, calls)
	}
}
