package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

// testConcurrency runs 20 workers doing mixed writes and reads for a second, none of which may
// fail, then 20 workers adding recent folders to one runner at once.
func testConcurrency(t *testing.T, s store.Store) {
	const workers = 20
	ctx := t.Context()
	deadline := time.Now().Add(time.Second)
	var wg sync.WaitGroup
	rounds := make([]int, workers)
	for w := range workers {
		wg.Go(func() {
			for ; time.Now().Before(deadline); rounds[w]++ {
				if err := concurrentRound(ctx, s, w, rounds[w]); err != nil {
					t.Errorf("worker %d, round %d: %v", w, rounds[w], err)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("rounds per worker: %v", rounds)

	// Several nodes may add to one runner's folders at once: the 20 newest must be what remains.
	const adds = 10
	for w := range workers {
		wg.Go(func() {
			for i := range adds {
				path := fmt.Sprintf("/burst/%03d", i*workers+w)
				if err := s.AddRecentFolder(ctx, "burst", path, at(time.Duration(i*workers+w)*time.Second)); err != nil {
					t.Errorf("AddRecentFolder: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	var want []string
	for n := workers*adds - 1; len(want) < 20; n-- {
		want = append(want, fmt.Sprintf("/burst/%03d", n))
	}
	got, err := s.RecentFolders(ctx, "burst", 100)
	must(t, "RecentFolders", err)
	check(t, "RecentFolders after concurrent adds", want, got)
}

// concurrentRound is one worker's round: it only reads back records no other worker can change.
func concurrentRound(ctx context.Context, s store.Store, worker, round int) error {
	id := fmt.Sprintf("w%d-r%d", worker, round)
	now := at(time.Duration(round) * time.Second)
	u := user("user-"+id, id+"@example.com")
	if err := s.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("CreateUser: %w", err)
	}
	if got, err := s.UserByEmail(ctx, u.Email); err != nil || got.ID != u.ID {
		return fmt.Errorf("UserByEmail: %v, %v", got.ID, err)
	}
	key := store.APIKey{ID: "key-" + id, UserID: u.ID, Name: "cli", Prefix: "pz", Hash: hash("key-" + id), CreatedAt: now, LastUsedAt: now}
	if err := s.CreateAPIKey(ctx, key); err != nil {
		return fmt.Errorf("CreateAPIKey: %w", err)
	}
	if got, _, err := s.UserByAPIKey(ctx, key.Hash, now); err != nil || got.ID != u.ID {
		return fmt.Errorf("UserByAPIKey: %v, %v", got.ID, err)
	}
	if err := s.CreateBrowserSession(ctx, hash("token-"+id), u.ID, now.Add(time.Hour)); err != nil {
		return fmt.Errorf("CreateBrowserSession: %w", err)
	}
	if got, err := s.UserByBrowserSession(ctx, hash("token-"+id), now); err != nil || got.ID != u.ID {
		return fmt.Errorf("UserByBrowserSession: %v, %v", got.ID, err)
	}
	if _, err := s.DeleteExpiredBrowserSessions(ctx, t0); err != nil {
		return fmt.Errorf("DeleteExpiredBrowserSessions: %w", err)
	}

	rs := session("session-"+id, u.ID, 0, nil)
	if err := s.SaveRelaySession(ctx, rs); err != nil {
		return fmt.Errorf("SaveRelaySession: %w", err)
	}
	if err := s.TouchRelaySession(ctx, rs.ID, now, nil); err != nil {
		return fmt.Errorf("TouchRelaySession: %w", err)
	}
	state := []byte(fmt.Sprintf(`{"session":%q}`, rs.ID))
	if err := s.SaveSessionState(ctx, rs.ID, state, now); err != nil {
		return fmt.Errorf("SaveSessionState: %w", err)
	}
	if got, err := s.SessionState(ctx, rs.ID); err != nil || string(got) != string(state) {
		return fmt.Errorf("SessionState: %q, %v", got, err)
	}
	if got, err := s.ListRelaySessions(ctx, u.ID, now, 10); err != nil || len(got) != 1 {
		return fmt.Errorf("ListRelaySessions: %d sessions, %v", len(got), err)
	}
	if err := s.EndRelaySession(ctx, rs.ID, now, ptr(at(-time.Hour))); err != nil {
		return fmt.Errorf("EndRelaySession: %w", err)
	}
	if _, err := s.PruneRelaySessions(ctx, t0); err != nil {
		return fmt.Errorf("PruneRelaySessions: %w", err)
	}

	if err := s.AddRecentFolder(ctx, "shared", "/src/"+id, now); err != nil {
		return fmt.Errorf("AddRecentFolder: %w", err)
	}
	if _, err := s.RecentFolders(ctx, "shared", 20); err != nil {
		return fmt.Errorf("RecentFolders: %w", err)
	}
	r := store.Runner{ID: "runner-" + id, UserID: u.ID, SecretHash: hash(id), Name: id, CreatedAt: now, LastSeenAt: now}
	if err := s.SaveRunner(ctx, r); err != nil {
		return fmt.Errorf("SaveRunner: %w", err)
	}
	if got, err := s.Runner(ctx, r.ID); err != nil || got.Name != r.Name {
		return fmt.Errorf("Runner: %v, %v", got.Name, err)
	}

	live, expired := attachment("live-"+id, time.Hour), attachment("expired-"+id, -time.Hour)
	for _, a := range []store.Attachment{live, expired} {
		if err := s.SaveAttachment(ctx, a); err != nil {
			return fmt.Errorf("SaveAttachment: %w", err)
		}
	}
	if _, err := s.DeleteExpiredAttachments(ctx, t0); err != nil {
		return fmt.Errorf("DeleteExpiredAttachments: %w", err)
	}
	if got, err := s.Attachment(ctx, live.ID); err != nil || got.ID != live.ID {
		return fmt.Errorf("Attachment: %v, %v", got.ID, err)
	}
	return nil
}
